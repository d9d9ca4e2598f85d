import Gemma
import Records

/// Generation settings of a run: defaults from flags, overridable per record by fields of the same
/// name (`max_tokens`, `temperature`, `top_p`, `top_k`, `repetition_penalty`, `frequency_penalty`,
/// `presence_penalty`, `logit_bias`, `seed`, `stop`, `top_logprobs`, `min_tokens`, `response_format`).
public struct InferenceSettings: Sendable, Equatable {
    /// Generated tokens at most; the prompt does not count.
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    public var stop: [String] = []
    public var topLogprobs: Int?
    /// Generated tokens at least before an end token or stop string may end the answer.
    public var minTokens: Int = 0
    /// A system message put before each `question` (not applied to raw prompts).
    public var system: String?
    /// The answer's form (`response_format`); nil for free text.
    public var responseFormat: ResponseFormat?

    public init() {}

    /// These settings with the record's overrides applied; a wrong type or value names the field.
    public func overridden(by r: JSONObject) throws -> InferenceSettings {
        var s = self
        if let v = r["max_tokens"], !v.isNull { s.maxTokens = try Self.int(v, "max_tokens", min: 0) }
        if let v = r["temperature"], !v.isNull { s.sampling.temperature = try Self.float(v, "temperature") }
        if let v = r["top_p"], !v.isNull { s.sampling.topP = try Self.float(v, "top_p") }
        if let v = r["top_k"], !v.isNull { s.sampling.topK = try Self.int(v, "top_k", min: 0) }
        if let v = r["repetition_penalty"], !v.isNull {
            s.sampling.repetitionPenalty = try Self.float(v, "repetition_penalty")
        }
        if let v = r["frequency_penalty"], !v.isNull {
            s.sampling.frequencyPenalty = try Self.float(v, "frequency_penalty")
        }
        if let v = r["presence_penalty"], !v.isNull {
            s.sampling.presencePenalty = try Self.float(v, "presence_penalty")
        }
        if let v = r["logit_bias"], !v.isNull { s.sampling.logitBias = try Self.logitBias(v) }
        if let v = r["response_format"], !v.isNull { s.responseFormat = try ResponseFormat(v) }
        if let v = r["seed"], !v.isNull { s.sampling.seed = UInt64(try Self.int(v, "seed", min: 0)) }
        if let v = r["top_logprobs"], !v.isNull { s.topLogprobs = try Self.int(v, "top_logprobs", min: 0) }
        if let v = r["min_tokens"], !v.isNull { s.minTokens = try Self.int(v, "min_tokens", min: 0) }
        if s.minTokens > s.maxTokens {
            throw RecordError("field 'min_tokens' (\(s.minTokens)) must not exceed max_tokens (\(s.maxTokens))")
        }
        if let v = r["stop"], !v.isNull {
            switch v {
            case .string(let one): s.stop = [one]
            case .array(let items):
                s.stop = try items.enumerated().map { i, item in
                    guard let text = item.string else {
                        throw RecordError("field 'stop[\(i)]' must be a string, got \(item.kindName)")
                    }
                    return text
                }
            default: throw RecordError("field 'stop' must be a string or an array of strings, got \(v.kindName)")
            }
        }
        try s.sampling.validate()
        return s
    }

    /// OpenAI's `logit_bias`: token ids (as strings) to numbers.
    static func logitBias(_ v: JSONValue) throws -> [Int: Float] {
        guard let o = v.object else {
            throw GemmaError.invalidParameter(name: "logit_bias", message: "must be an object of token ids to numbers, got \(v.kindName)")
        }
        var bias: [Int: Float] = [:]
        for (key, value) in o {
            guard let id = Int(key), id >= 0, let b = value.double, b.isFinite else {
                throw GemmaError.invalidParameter(
                    name: "logit_bias", message: "'\(key)': \(value) must map a token id to a number")
            }
            bias[id] = Float(b)
        }
        return bias
    }

    static func int(_ v: JSONValue, _ name: String, min: Int) throws -> Int {
        guard let n = v.int, v.double == Double(n) else {
            throw RecordError("field '\(name)' must be an integer, got \(v.kindName) \(v)")
        }
        guard n >= min else { throw RecordError("field '\(name)' must be >= \(min), got \(n)") }
        return n
    }

    static func float(_ v: JSONValue, _ name: String) throws -> Float {
        guard let d = v.double, d.isFinite else {
            throw RecordError("field '\(name)' must be a number, got \(v.kindName) \(v)")
        }
        return Float(d)
    }
}
