import Records

/// What a backend is asked: the prompt, the allowed replies, and whether the caller wants the score's
/// probabilities and a written explanation.
public struct BackendRequest: Sendable {
    public var prompt: JudgePrompt
    public var scale: ScoreScale
    /// Ask for log-probabilities of the score tokens (always on for the local backend).
    public var wantsLogprobs: Bool
    /// Generate the explanation too (the local backend skips it otherwise, to save time).
    public var wantsExplanation: Bool
    /// Only the allowed score tokens' probabilities are wanted, normalised over them (a node of a
    /// decomposed judge): the local backend then computes those tokens' logits alone. The reply's
    /// `scoreLogprobs` sum to one over the scale instead of carrying the rest of the vocabulary's mass.
    public var scoreTokensOnly: Bool

    public init(prompt: JudgePrompt, scale: ScoreScale, wantsLogprobs: Bool, wantsExplanation: Bool,
                scoreTokensOnly: Bool = false) {
        self.prompt = prompt
        self.scale = scale
        self.wantsLogprobs = wantsLogprobs
        self.wantsExplanation = wantsExplanation
        self.scoreTokensOnly = scoreTokensOnly
    }
}

/// A backend's answer: the reply text and, when available, log-probabilities of the candidate score
/// tokens at the point where the score is written.
public struct BackendReply: Sendable, Equatable {
    public var text: String
    /// Token text -> log-probability at the score position (nil when the backend gave none).
    public var scoreLogprobs: [(token: String, logprob: Double)]?
    public var promptTokens: Int
    public var completionTokens: Int

    public init(text: String, scoreLogprobs: [(token: String, logprob: Double)]? = nil, promptTokens: Int = 0, completionTokens: Int = 0) {
        self.text = text
        self.scoreLogprobs = scoreLogprobs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public static func == (lhs: BackendReply, rhs: BackendReply) -> Bool {
        lhs.text == rhs.text && lhs.promptTokens == rhs.promptTokens && lhs.completionTokens == rhs.completionTokens
            && lhs.scoreLogprobs?.map(\.token) == rhs.scoreLogprobs?.map(\.token)
            && lhs.scoreLogprobs?.map(\.logprob) == rhs.scoreLogprobs?.map(\.logprob)
    }

    /// The reply as stored in the cache.
    public var json: JSONObject {
        var o: JSONObject = ["text": .string(text), "prompt_tokens": JSONValue(promptTokens),
                             "completion_tokens": JSONValue(completionTokens)]
        if let scoreLogprobs {
            o["score_logprobs"] = .array(scoreLogprobs.map { .array([.string($0.token), .double($0.logprob)]) })
        }
        return o
    }

    /// Reads a cached reply; nil when the entry is not one (a damaged cache file is a miss, not an error).
    public init?(json: JSONObject) {
        guard let text = json["text"]?.string, let p = json["prompt_tokens"]?.int, let c = json["completion_tokens"]?.int else {
            return nil
        }
        self.text = text
        promptTokens = p
        completionTokens = c
        if let list = json["score_logprobs"]?.array {
            var pairs: [(token: String, logprob: Double)] = []
            for item in list {
                guard let token = item[0]?.string, let lp = item[1]?.double else { return nil }
                pairs.append((token, lp))
            }
            scoreLogprobs = pairs
        } else {
            scoreLogprobs = nil
        }
    }
}

/// A judging model: an OpenAI-compatible server or a Gemma model in process.
///
/// `complete` throws for transport and server failures (the record gets status "error"); a reply that
/// arrives but says nothing usable is returned as is and becomes "parse_error" later.
public protocol JudgeBackend: Sendable {
    /// The judging model's name, as output records report it.
    var modelName: String { get }
    /// Everything besides the prompt that changes the reply (temperature, ...): part of the cache key.
    var parameters: JSONObject { get }
    func complete(_ request: BackendRequest) throws -> BackendReply
}
