import Foundation
import Gemma
import HTTPClient
import Records

/// How to reach an OpenAI-compatible chat completions endpoint.
public struct OpenAISettings: Sendable {
    /// The API root including the version, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`;
    /// requests go to `<baseURL>/chat/completions`.
    public var baseURL: String
    public var model: String
    /// Sent as `Authorization: Bearer <key>` when set.
    public var apiKey: String?
    /// Seconds for a whole request.
    public var timeout: Double = 60
    public var retry = RetryPolicy()
    public var temperature: Double = 0
    /// Tokens the judge may write (score and explanation).
    public var maxTokens = 256
    /// Ask for `response_format: json_schema` first (dropped for the rest of the run when refused).
    public var structuredOutput = true
    /// Alternatives per token when log-probabilities are requested.
    public var topLogprobs = 5
    /// Send the reply's opening (`{"score": `) as an unfinished assistant message for the server to
    /// continue (vLLM's `continue_final_message`, also understood by `gemma-infer serve`), instead of
    /// asking for structured output. The score is then the first token the server writes, read from
    /// the same context as the local backend's, which small models need: left to themselves they
    /// often never write the JSON asked for.
    public var prefillReply = false

    public init(baseURL: String, model: String, apiKey: String? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
    }
}

/// A judge backend over any server speaking OpenAI's chat completions API (OpenAI, vLLM, llama.cpp's
/// server, `gemma-infer serve`), through the project's libcurl client.
///
/// - Rate limits (429, honouring `Retry-After`), 5xx, timeouts and dropped connections are retried with
///   exponential backoff and full jitter (`RetryPolicy`); a 200 whose body is not a chat completion
///   (a proxy's error page) is retried the same way.
/// - Structured output (`response_format: {"type": "json_schema", ...}` restricting the reply to
///   `{"score": <allowed>, "explanation": string}`) is asked for first; a server that answers 400 or
///   422 to it is asked again without, and is not asked again for the rest of the run.
public final class OpenAIBackend: JudgeBackend, @unchecked Sendable {
    public let settings: OpenAISettings
    private let client: HTTPClient
    private let onRetry: (@Sendable (String) -> Void)?
    private let lock = NSLock()
    private var structuredRefused = false

    /// `onRetry` hears a one-line description of every failed attempt that is retried.
    public init(settings: OpenAISettings, client: HTTPClient = HTTPClient(), onRetry: (@Sendable (String) -> Void)? = nil) {
        self.settings = settings
        self.client = client
        self.onRetry = onRetry
    }

    public var modelName: String { settings.model }

    public var parameters: JSONObject {
        var p: JSONObject = ["backend": "openai", "base_url": .string(settings.baseURL), "temperature": .double(settings.temperature),
                             "max_tokens": JSONValue(settings.maxTokens)]
        if settings.prefillReply { p["prefill_reply"] = true }
        return p
    }

    public var endpoint: String {
        var base = settings.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }

    private var usesStructuredOutput: Bool {
        lock.lock()
        defer { lock.unlock() }
        return settings.structuredOutput && !structuredRefused
    }

    public func complete(_ request: BackendRequest) throws -> BackendReply {
        let structured = usesStructuredOutput
        do {
            return try send(request, structured: structured)
        } catch let error as HTTPError where structured && [400, 422].contains(error.statusCode ?? 0) {
            lock.lock()
            structuredRefused = true
            lock.unlock()
            onRetry?("the server refused structured output (\(error)); asking without response_format from now on")
            return try send(request, structured: false)
        }
    }

    private func send(_ request: BackendRequest, structured: Bool) throws -> BackendReply {
        let body = Array(JSONSerializer.string(.object(requestBody(request, structured: structured))).utf8)
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let key = settings.apiKey, !key.isEmpty { headers.append(("Authorization", "Bearer \(key)")) }
        let http = HTTPRequest.postJSON(url: endpoint, body: body, headers: headers, timeout: settings.timeout)
        let attempts = max(1, settings.retry.maxAttempts)
        var attempt = 1
        while true {
            let response = try client.send(http, retry: settings.retry) { [onRetry] n, reason, delay in
                onRetry?("attempt \(n) failed: \(reason); retrying in \(String(format: "%.2f", delay)) s")
            }
            do {
                return try Self.decode(response.body, scale: request.scale, url: endpoint, prefix: prefill(request))
            } catch let failure as BackendFailure where attempt < attempts {
                let delay = settings.retry.delay(afterAttempt: attempt, retryAfter: nil)
                onRetry?("attempt \(attempt) failed: \(failure); retrying in \(String(format: "%.2f", delay)) s")
                Thread.sleep(forTimeInterval: delay)
                attempt += 1
            }
        }
    }

    /// The reply's opening sent for the server to continue, or "" when the reply is not prefilled.
    func prefill(_ request: BackendRequest) -> String {
        settings.prefillReply ? request.prompt.replyPrefix : ""
    }

    /// The chat completions request for one judgement.
    public func requestBody(_ request: BackendRequest, structured: Bool) -> JSONObject {
        var messages = request.prompt.messages
        let opening = prefill(request)
        if !opening.isEmpty { messages.append(ChatMessage(role: "assistant", content: opening)) }
        var body: JSONObject = [
            "model": .string(settings.model),
            "messages": .array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }),
            "temperature": .double(settings.temperature),
            "max_tokens": JSONValue(settings.maxTokens),
        ]
        if request.wantsLogprobs {
            body["logprobs"] = true
            body["top_logprobs"] = JSONValue(settings.topLogprobs)
        }
        if !opening.isEmpty {
            body["continue_final_message"] = true
            body["add_generation_prompt"] = false
        } else if structured && !request.prompt.replyPrefix.isEmpty {
            body["response_format"] = .object(Self.responseFormat(request.scale))
        }
        return body
    }

    /// `{"type": "json_schema", "json_schema": {...}}` allowing exactly the scale's labels.
    static func responseFormat(_ scale: ScoreScale) -> JSONObject {
        let choice: JSONValue = scale.key == "winner"
            ? .object(["type": "string", "enum": .array(scale.labels.map { .string($0) })])
            : .object(["type": "integer", "enum": .array(scale.options.map { .int(Int64($0.value)) })])
        let schema: JSONObject = [
            "type": "object",
            "properties": .object([scale.key: choice, "explanation": .object(["type": "string"])]),
            "required": .array([.string(scale.key), "explanation"]),
            "additionalProperties": false,
        ]
        return ["type": "json_schema",
                "json_schema": .object(["name": "judgement", "strict": true, "schema": .object(schema)])]
    }

    /// A 200 response that is not a chat completion.
    struct BackendFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the reply text, usage and the score token's log-probabilities from a response body;
    /// `prefix` is the prefilled opening the server's content continues.
    static func decode(_ body: [UInt8], scale: ScoreScale, url: String, prefix: String = "") throws -> BackendReply {
        func snippet() -> String {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return body.count > 200 ? text + "…" : text
        }
        guard let object = (try? JSONParser.parse(bytes: body))?.object else {
            throw BackendFailure(description: "\(url): the response is not JSON: \(snippet())")
        }
        guard let choice = object["choices"]?[0]?.object, let message = choice["message"]?.object else {
            throw BackendFailure(description: "\(url): the response has no choices[0].message: \(snippet())")
        }
        let text = prefix + (message["content"]?.string ?? message["refusal"]?.string ?? "")
        let usage = object["usage"]?.object
        var reply = BackendReply(text: text, promptTokens: usage?["prompt_tokens"]?.int ?? 0,
                                 completionTokens: usage?["completion_tokens"]?.int ?? 0)
        if let tokens = choice["logprobs"]?["content"]?.array {
            reply.scoreLogprobs = scoreLogprobs(tokens, scale: scale, after: prefix)
        }
        return reply
    }

    /// The alternatives at the position where the score is written: the first allowed label after the
    /// scale's key (`"score": 4`, the key possibly in the prefilled `prefix`), or failing that the
    /// first allowed label at all (a bare `4`).
    static func scoreLogprobs(_ tokens: [JSONValue], scale: ScoreScale, after prefix: String = "") -> [(token: String, logprob: Double)]? {
        func isLabel(_ token: String) -> Bool {
            let cleaned = token.trimmingCharacters(in: CharacterSet(charactersIn: " \t\n\"'"))
            return scale.options.contains { $0.label.lowercased() == cleaned.lowercased() }
        }
        func alternatives(_ entry: JSONValue) -> [(token: String, logprob: Double)] {
            var list: [(token: String, logprob: Double)] = []
            if let t = entry["token"]?.string, let lp = entry["logprob"]?.double { list.append((t, lp)) }
            for alt in entry["top_logprobs"]?.array ?? [] {
                if let t = alt["token"]?.string, let lp = alt["logprob"]?.double, !list.contains(where: { $0.token == t }) {
                    list.append((t, lp))
                }
            }
            return list
        }
        var seen = prefix
        var firstLabel: JSONValue?
        for entry in tokens {
            guard let token = entry["token"]?.string else { continue }
            if isLabel(token) {
                if seen.contains("\"\(scale.key)\"") { return alternatives(entry) }
                if firstLabel == nil { firstLabel = entry }
            }
            seen += token
        }
        return firstLabel.map(alternatives)
    }
}
