// Autoregressive generation on one sequence: prefill the prompt into the KV cache, then sample one
// token at a time until EOS / <end_of_turn>, a stop string, or max_tokens; with the timings the
// monitoring stream needs (time to first token, time per output token, total).
import Foundation
import Tokenizers

public struct GenerationRequest: Sendable {
    public var promptIDs: [Int]
    /// Generated tokens at most (the prompt does not count).
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends before the first occurrence of any of these; the stop string is not returned.
    public var stop: [String]
    /// nil: no log-probabilities; k >= 0: the chosen token's and the k best alternatives.
    public var topLogprobs: Int?
    /// Generated tokens at least: until then the end tokens (EOS, <end_of_turn>) are never sampled
    /// and stop strings do not end the generation (vLLM's and llama.cpp's `min_tokens`). At most
    /// `maxTokens`; the end of the context still ends it.
    public var minTokens: Int
    /// Constrained decoding: the answer is JSON text the schema allows (`JSONRecognizer`), and an
    /// end token is sampled only once that text is a whole value (the generation also ends by
    /// itself when nothing may follow). Excludes `stop` strings and `minTokens`.
    public var format: JSONSchema?

    public init(promptIDs: [Int], maxTokens: Int = 256, sampling: SamplingParameters = .init(),
                stop: [String] = [], topLogprobs: Int? = nil, minTokens: Int = 0, format: JSONSchema? = nil) {
        self.format = format
        self.promptIDs = promptIDs
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.topLogprobs = topLogprobs
        self.minTokens = minTokens
    }
}

extension GenerationRequest {
    /// What the model's vocabulary and the other settings decide: `logit_bias` ids inside the
    /// vocabulary, and no stop strings or `minTokens` with a `format` (a stop string would cut the
    /// JSON value; the value may be complete before `minTokens`).
    public func checkCombinations(vocabularySize: Int) throws {
        if let id = sampling.logitBias.keys.sorted().first(where: { $0 >= vocabularySize }) {
            throw GemmaError.invalidParameter(name: "logit_bias", message: "token \(id) is outside the vocabulary (size \(vocabularySize))")
        }
        guard format != nil else { return }
        if !stop.isEmpty {
            throw GemmaError.invalidParameter(name: "stop", message: "stop strings cannot be combined with response_format (one would cut the JSON value)")
        }
        if minTokens > 0 {
            throw GemmaError.invalidParameter(name: "min_tokens", message: "min_tokens cannot be combined with response_format (the value may be complete sooner)")
        }
    }
}

public enum FinishReason: String, Codable, Sendable {
    /// EOS, <end_of_turn> or a stop string.
    case stop
    /// max_tokens or the end of the context.
    case length
}

/// A token and its log-probability under the model, with the best alternatives.
public struct TokenLogprob: Sendable {
    public var id: Int
    public var text: String
    public var logprob: Float
    public var top: [(id: Int, text: String, logprob: Float)]
}

public struct GenerationResult: Sendable {
    public var text: String
    public var tokenIDs: [Int]
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int { tokenIDs.count }
    /// Seconds from the start of the request to the first generated token.
    public var timeToFirstToken: Double
    /// Seconds from the start to the end.
    public var latency: Double
    /// Seconds per output token after the first; nil with fewer than two tokens.
    public var timePerOutputToken: Double? {
        completionTokens > 1 ? (latency - timeToFirstToken) / Double(completionTokens - 1) : nil
    }
    public var seed: UInt64
    public var logprobs: [TokenLogprob]?
}

public final class Generator: @unchecked Sendable {
    public let model: GemmaModel
    public let tokenizer: any TextTokenizer
    /// Tokens that end a generation: the model's EOS ids and <end_of_turn>.
    public let stopTokenIDs: Set<Int>
    private let tokenBytesLock = NSLock()
    private var tokenBytesTable: TokenBytes?

    /// Each token's bytes, built on first use (constrained decoding).
    public var tokenBytes: TokenBytes {
        tokenBytesLock.lock()
        defer { tokenBytesLock.unlock() }
        if let table = tokenBytesTable { return table }
        let table = TokenBytes(tokenizer)
        tokenBytesTable = table
        return table
    }

    public init(model: GemmaModel, tokenizer: any TextTokenizer) {
        self.model = model
        self.tokenizer = tokenizer
        var stops = Set(model.config.eosIDs)
        stops.insert(tokenizer.eosID)
        if let eot = tokenizer.id(of: "<end_of_turn>") { stops.insert(eot) }
        stopTokenIDs = stops
    }

    /// Generates a completion. `onText` receives text as it becomes final (never a part of a
    /// stop string, never half a UTF-8 character); returning false cancels (finish reason stop).
    public func generate(_ request: GenerationRequest, onText: ((String) -> Bool)? = nil) throws -> GenerationResult {
        try generate(request, onPiece: onText.map { onText in { onText($0.text) } })
    }

    /// The same, with each piece's token log-probabilities (when the request asks for them).
    public func generate(_ request: GenerationRequest, onPiece: ((TextPiece) -> Bool)?) throws -> GenerationResult {
        let session = try start(request, onPiece: onPiece)
        while let token = session.pendingToken {
            session.advance(logits: try model.forward([token], cache: session.cache))
        }
        return session.result()
    }

    /// Checks the request, runs its prompt and samples the first token: a session whose decode
    /// steps the caller runs (one at a time as `generate` does, or batched with other sessions).
    public func start(_ request: GenerationRequest, onPiece: ((TextPiece) -> Bool)? = nil) throws -> GenerationSession {
        try GenerationSession(generator: self, request: request, onPiece: onPiece)
    }

    /// The text of one token for logprob output (bytes of a partial character shown as U+FFFD).
    public func tokenText(_ id: Int) -> String { String(decoding: tokenizer.tokenToBytes(id), as: UTF8.self) }
}
