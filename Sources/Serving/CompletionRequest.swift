import Foundation
import Inference
import Records

/// An OpenAI `POST /v1/chat/completions` or `POST /v1/completions` body, read into the record the
/// filter would answer: `messages` or `prompt` plus the overrides it understands (`max_tokens`,
/// `temperature`, `top_p`, `seed`, `stop`, `top_logprobs`, `frequency_penalty`, `presence_penalty`,
/// `logit_bias`, `response_format`, llama.cpp's `top_k`, `repetition_penalty`, and vLLM's
/// `continue_final_message`); a field it cannot honour is a 400 naming it. Answering that record
/// with `RecordInference` is what makes the server's answers equal the filter's for the same seed.
struct CompletionRequest: Sendable {
    enum Kind: Sendable {
        case chat, completion

        var idPrefix: String { self == .chat ? "chatcmpl-" : "cmpl-" }
        var object: String { self == .chat ? "chat.completion" : "text_completion" }
        var chunkObject: String { self == .chat ? "chat.completion.chunk" : "text_completion" }
    }

    let kind: Kind
    /// The record given to the engine (and, answered, to the traffic log).
    var record: JSONObject
    let stream: Bool
    /// `stream_options.include_usage`: a last chunk carries the usage.
    let includeUsage: Bool
    /// The client's W3C `traceparent` header: the request's span joins the client's trace.
    var traceparent: String?
    /// When the body was read: the start of the request's span (its wait for a slot included).
    let received = Date()
    var id: String { record["id"]?.string ?? "" }

    /// Parses and checks a body; every problem is a 400 naming the parameter.
    init(kind: Kind, body: [UInt8]) throws {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(bytes: body) } catch {
            throw APIError.badRequest("The request body is not valid JSON: \(error)")
        }
        guard let b = parsed.object else {
            throw APIError.badRequest("The request body must be a JSON object, got \(parsed.kindName).")
        }
        self.kind = kind
        var r = JSONObject()
        r["id"] = .string(RecordInference.newID(prefix: kind.idPrefix))
        r["endpoint"] = .string(kind == .chat ? "/v1/chat/completions" : "/v1/completions")

        switch kind {
        case .chat:
            guard let m = b["messages"], !m.isNull else { throw APIError.badRequest("'messages' is required.", param: "messages") }
            guard let list = m.array, !list.isEmpty else {
                throw APIError.badRequest("'messages' must be a non-empty array.", param: "messages")
            }
            r["messages"] = m
            // The last user message, as the filter's `question`: what judge, orpo-pairs and the
            // monitors read from the traffic log (the engine answers from `messages`).
            if let last = (try? PromptInput.messages(m))?.last(where: { $0.role == "user" }) {
                r["question"] = .string(last.content)
            }
            try Self.continuation(b, into: &r)
        case .completion:
            r["prompt"] = .string(try Self.prompt(b["prompt"]))
        }

        if let n = b["n"], !n.isNull, n.int != 1 || n.double != 1 {
            throw APIError.badRequest("Only n = 1 is supported, got \(n).", param: "n")
        }
        stream = try Self.bool(b, "stream") ?? false
        if let options = b["stream_options"], !options.isNull {
            guard let o = options.object else {
                throw APIError.badRequest("'stream_options' must be an object.", param: "stream_options")
            }
            guard stream else {
                throw APIError.badRequest("'stream_options' is only allowed with stream: true.", param: "stream_options")
            }
            includeUsage = try Self.bool(o, "include_usage", param: "stream_options.include_usage") ?? false
        } else {
            includeUsage = false
        }

        // max_completion_tokens is the chat API's newer name for max_tokens.
        for name in ["max_tokens", "max_completion_tokens"] {
            if let v = b[name], !v.isNull { r["max_tokens"] = v }
        }
        for name in ["temperature", "top_p", "seed", "stop", "top_k", "repetition_penalty", "min_tokens",
                     "frequency_penalty", "presence_penalty", "logit_bias", "response_format"] {
            if let v = b[name], !v.isNull { r[name] = v }
        }
        try Self.refuseUnhonoured(b, kind: kind)
        if r["continue_final_message"] == true, let f = b["response_format"], !f.isNull, f["type"] != "text" {
            throw APIError.badRequest("'response_format' cannot be combined with 'continue_final_message'.",
                                      param: "response_format")
        }
        try Self.logprobs(b, kind: kind, into: &r)
        // OpenAI's `metadata` (string values, for filtering stored completions) and `user` are
        // kept in the traffic log, so that a client's labels (a topic, a tenant) reach the monitors.
        if let m = b["metadata"], !m.isNull {
            guard let o = m.object, o.members.allSatisfy({ $0.value.string != nil }) else {
                throw APIError.badRequest("'metadata' must be an object of string values.", param: "metadata")
            }
            r["metadata"] = m
        }
        if let u = b["user"], !u.isNull {
            guard u.string != nil else { throw APIError.badRequest("'user' must be a string.", param: "user") }
            r["user"] = u
        }
        record = r
    }

    /// Body fields read above (by both endpoints, then by one), and fields accepted that change
    /// nothing in the answer (the man page's REQUEST FIELDS lists them). Any other field is a 400
    /// naming it.
    static let readFields: Set<String> = [
        "n", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop",
        "top_k", "repetition_penalty", "min_tokens", "frequency_penalty", "presence_penalty", "logit_bias",
        "response_format", "logprobs", "metadata", "user",
    ]
    static let chatFields: Set<String> = ["messages", "top_logprobs", "continue_final_message", "add_generation_prompt"]
    static let completionFields: Set<String> = ["prompt"]
    static let ineffectiveFields: Set<String> = [
        "model", "store", "service_tier", "service_level", "parallel_tool_calls", "prompt_cache_key",
        "safety_identifier", "prediction",
    ]

    /// A 400 for what would change the answer and cannot be done: tools and functions (an empty
    /// list, "none" and "auto" without tools change nothing), `echo`, `best_of` > 1, `suffix`,
    /// `modalities` other than text, and every field not known.
    private static func refuseUnhonoured(_ b: JSONObject, kind: Kind) throws {
        let read = readFields.union(kind == .chat ? chatFields : completionFields)
        for (name, value) in b where !read.contains(name) && !ineffectiveFields.contains(name) {
            let harmless: Bool
            switch name {
            case "tools", "functions": harmless = value.isNull || value.array?.isEmpty == true
            case "tool_choice", "function_call": harmless = value.isNull || value.string == "none" || value.string == "auto"
            case "echo" where kind == .completion: harmless = value.isNull || value.bool == false
            case "best_of" where kind == .completion: harmless = value.isNull || value.int == 1
            case "suffix" where kind == .completion: harmless = value.isNull || value.string == ""
            case "modalities": harmless = value.isNull || value.array == ["text"]
            default:
                throw APIError.badRequest("Unknown parameter '\(name)': this server does not support it.", param: name)
            }
            guard harmless else {
                throw APIError.badRequest("'\(name)' is not supported by this server (got \(value)).", param: name)
            }
        }
    }

    /// The completions API takes a string or an array holding one string (n prompts would need n
    /// answers; token-id prompts are not supported).
    private static func prompt(_ v: JSONValue?) throws -> String {
        switch v {
        case nil, .null?: throw APIError.badRequest("'prompt' is required.", param: "prompt")
        case .string(let s)?: return s
        case .array(let items)? where items.count == 1:
            if let s = items[0].string { return s }
            throw APIError.badRequest("'prompt' must be a string (token-id prompts are not supported).", param: "prompt")
        case let other?:
            throw APIError.badRequest("'prompt' must be a string or an array of one string, got \(other.kindName).", param: "prompt")
        }
    }

    /// Chat: `logprobs: true` with `top_logprobs: k` (0...20). Completions: `logprobs: k` (0...20).
    private static func logprobs(_ b: JSONObject, kind: Kind, into r: inout JSONObject) throws {
        switch kind {
        case .chat:
            let on = try bool(b, "logprobs") ?? false
            let top = b["top_logprobs"].flatMap { $0.isNull ? nil : $0 }
            if top != nil && !on {
                throw APIError.badRequest("'top_logprobs' needs 'logprobs' to be true.", param: "top_logprobs")
            }
            if on { r["top_logprobs"] = .int(Int64(try count(top, "top_logprobs"))) }
        case .completion:
            if let v = b["logprobs"], !v.isNull { r["top_logprobs"] = .int(Int64(try count(v, "logprobs"))) }
        }
    }

    /// vLLM's `continue_final_message: true` (with `add_generation_prompt: false`, which may be
    /// left out): the last message, the assistant's, is continued instead of answered, so a client
    /// can fix how the reply starts. The reply's content is the continuation only.
    private static func continuation(_ b: JSONObject, into r: inout JSONObject) throws {
        let continuing = try bool(b, "continue_final_message") ?? false
        let generationPrompt = try bool(b, "add_generation_prompt")
        if continuing && generationPrompt == true {
            throw APIError.badRequest("'continue_final_message' and 'add_generation_prompt' cannot both be true.",
                                      param: "add_generation_prompt")
        }
        if !continuing && generationPrompt == false {
            throw APIError.badRequest("'add_generation_prompt': false is only supported with 'continue_final_message': true.",
                                      param: "add_generation_prompt")
        }
        if continuing { r["continue_final_message"] = true }
    }

    private static func count(_ v: JSONValue?, _ name: String) throws -> Int {
        guard let v else { return 0 }
        guard let k = v.int, v.double == Double(k), (0...20).contains(k) else {
            throw APIError.badRequest("'\(name)' must be an integer between 0 and 20, got \(v).", param: name)
        }
        return k
    }

    private static func bool(_ o: JSONObject, _ name: String, param: String? = nil) throws -> Bool? {
        guard let v = o[name], !v.isNull else { return nil }
        guard let flag = v.bool else {
            throw APIError.badRequest("'\(param ?? name)' must be a boolean, got \(v.kindName).", param: param ?? name)
        }
        return flag
    }
}
