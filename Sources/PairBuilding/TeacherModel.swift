// Speaks the OpenAI Chat Completions API (POST {base}/chat/completions with "model" and "messages";
// the answer in choices[0].message.content), which gemma-infer serve, vLLM, llama.cpp's server and
// hosted APIs all accept.
import HTTPClient
import Policy
import Records

/// A teacher: any OpenAI-compatible endpoint, prompted (`systemPrompt`, from the policy's
/// `teacher_instructions` and refusal) to be the agent the model should be, so that its answer can
/// stand as `chosen`.
public struct TeacherModel: ChosenAnswerSource {
    /// The endpoint that receives the requests: `baseURL` itself when it already ends in
    /// `/chat/completions`, else `baseURL` + `/chat/completions` (so `http://host:8080/v1` works).
    public var endpoint: String
    public var model: String
    /// Sent as `Authorization: Bearer` when set (from OPENAI_API_KEY).
    public var apiKey: String?
    public var systemPrompt: String
    public var retry: RetryPolicy
    /// Seconds allowed for each attempt.
    public var timeout: Double
    public var maxTokens: Int
    public var client: HTTPClient
    /// Told about each failed attempt that will be retried.
    public var onRetry: ((_ attempt: Int, _ reason: HTTPError, _ delay: Double) -> Void)?

    public init(
        baseURL: String, model: String, apiKey: String? = nil, systemPrompt: String = DomainPolicy.banking.teacherPrompt,
        retry: RetryPolicy = RetryPolicy(), timeout: Double = 120, maxTokens: Int = 512,
        client: HTTPClient = HTTPClient(),
        onRetry: ((_ attempt: Int, _ reason: HTTPError, _ delay: Double) -> Void)? = nil
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        endpoint = base.hasSuffix("/chat/completions") ? base : base + "/chat/completions"
        self.model = model
        self.apiKey = apiKey
        self.systemPrompt = systemPrompt
        self.retry = retry
        self.timeout = timeout
        self.maxTokens = maxTokens
        self.client = client
        self.onRetry = onRetry
    }

    public func chosenAnswer(for record: JudgedRecord) throws -> ChosenAnswer {
        let body: JSONObject = [
            "model": .string(model),
            "messages": [
                ["role": "system", "content": .string(systemPrompt)],
                ["role": "user", "content": .string(record.question)],
            ],
            "temperature": 0,
            "max_tokens": JSONValue(maxTokens),
        ]
        var headers: [(String, String)] = []
        if let apiKey, !apiKey.isEmpty { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let request = HTTPRequest.postJSON(
            url: endpoint, body: Array(JSONSerializer.string(.object(body)).utf8), headers: headers, timeout: timeout)
        let response: HTTPResponse
        do {
            response = try client.send(request, retry: retry, onRetry: onRetry)
        } catch {
            throw ChosenAnswerError.teacher("\(error)")
        }
        return ChosenAnswer(text: try Self.content(of: response.text, from: endpoint), origin: .teacher, teacher: model)
    }

    /// The assistant's text in a chat completion response.
    static func content(of text: String, from endpoint: String) throws -> String {
        let reply: JSONValue
        do {
            reply = try JSONParser.parse(text)
        } catch {
            throw ChosenAnswerError.teacher("\(endpoint): response is not JSON: \(error)")
        }
        guard let content = reply["choices"]?[0]?["message"]?["content"] else {
            throw ChosenAnswerError.teacher("\(endpoint): response has no 'choices[0].message.content'")
        }
        guard let string = content.string else {
            throw ChosenAnswerError.teacher("\(endpoint): 'choices[0].message.content' is \(content.kindName), not a string")
        }
        if reply["choices"]?[0]?["finish_reason"]?.string == "length" {
            throw ChosenAnswerError.teacher("\(endpoint): the teacher's answer was cut off at max_tokens")
        }
        let answer = string.trimmingWhitespace()
        guard !answer.isEmpty else {
            throw ChosenAnswerError.teacher("\(endpoint): the teacher's answer is empty")
        }
        return answer
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines (no Foundation needed).
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
              let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
