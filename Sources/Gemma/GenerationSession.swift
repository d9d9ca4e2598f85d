// One generation between decode steps: what `Generator.generate` loops over, split at the forward
// call so that a scheduler can step many sessions with one batched forward
// (`GemmaModel.forward(batch:caches:)`) and each still samples, stops and streams exactly as it
// would alone.
import Foundation
import Tokenizers

/// Text released to the client, with the log-probabilities of the tokens sampled since the
/// previous piece (empty unless asked for). Concatenated, the pieces' log-probabilities are the
/// result's, except for tokens after the last piece (an end token, a cut stop string).
public struct TextPiece: Sendable {
    public var text: String
    public var logprobs: [TokenLogprob]
}

/// A generation in progress. Created by `Generator.start` with the prompt already run; then, while
/// `pendingToken` is set, the owner runs that token through the model on `cache` and hands the
/// logits to `advance`. Used by one thread at a time (it may change threads between steps).
public final class GenerationSession: @unchecked Sendable {
    public let request: GenerationRequest
    /// The sequence's keys and values; the next token goes at `cache.count`.
    public let cache: KVCache
    /// The token the next forward step must run; nil once the generation is over.
    public private(set) var pendingToken: Int?
    public var isFinished: Bool { pendingToken == nil }

    private let generator: Generator
    private let onPiece: ((TextPiece) -> Bool)?
    private let started: UInt64
    private let maxTokens: Int
    private var sampler: Sampler
    private var history: [Int]
    private var generated: [Int] = []
    /// How often each token was generated, for the frequency and presence penalties.
    private var outputCounts: [Int: Int] = [:]
    /// The JSON text so far, under `request.format`.
    private var recognizer: JSONRecognizer?
    /// A token was put in place of the sampled one to close the JSON value within max_tokens.
    private var closedByBudget = false
    private var logprobs: [TokenLogprob]?
    private var sentLogprobs = 0
    private var decoder: StreamingDecoder
    private var stopper: StopStringMatcher
    private var text = ""
    private var finish = FinishReason.length
    private var done = false
    private var ttft: Double?
    private var latency: Double?

    /// Checks the request, runs the prompt and samples the first token.
    init(generator: Generator, request: GenerationRequest, onPiece: ((TextPiece) -> Bool)?) throws {
        started = DispatchTime.now().uptimeNanoseconds
        try request.sampling.validate()
        guard request.maxTokens >= 0 else {
            throw GemmaError.invalidParameter(name: "max_tokens", message: "must be >= 0, got \(request.maxTokens)")
        }
        guard request.minTokens >= 0, request.minTokens <= request.maxTokens else {
            throw GemmaError.invalidParameter(name: "min_tokens",
                                              message: "must be between 0 and max_tokens (\(request.maxTokens)), got \(request.minTokens)")
        }
        if let k = request.topLogprobs, k < 0 || k > 20 {
            throw GemmaError.invalidParameter(name: "top_logprobs", message: "must be between 0 and 20, got \(k)")
        }
        let prompt = request.promptIDs
        guard !prompt.isEmpty else { throw GemmaError.emptyPrompt }
        let model = generator.model
        try request.checkCombinations(vocabularySize: model.config.vocabularySize)
        recognizer = request.format.map(JSONRecognizer.init)
        let limit = model.config.contextLength
        guard prompt.count < limit else { throw GemmaError.contextOverflow(needed: prompt.count + 1, limit: limit) }
        maxTokens = min(request.maxTokens, limit - prompt.count)

        self.generator = generator
        self.request = request
        self.onPiece = onPiece
        sampler = Sampler(request.sampling)
        cache = KVCache(config: model.config, limit: prompt.count + maxTokens,
                        initialCapacity: prompt.count + min(maxTokens, 256))
        history = prompt
        logprobs = request.topLogprobs == nil ? nil : []
        decoder = generator.tokenizer.makeStreamingDecoder()
        stopper = StopStringMatcher(stops: request.stop)
        let logits = try model.forward(prompt, cache: cache)
        if maxTokens > 0 { advance(logits: logits) } else { end() }
    }

    /// Samples the next token from the logits of `pendingToken` (of the prompt, the first time),
    /// releases the text that became final, and decides whether the generation goes on.
    public func advance(logits: [Float]) {
        guard !done, generated.count < maxTokens else { return end() }
        var logits = logits
        let lp = request.topLogprobs.map { _ in LogProbabilities(logits: logits) }
        if generated.count < request.minTokens {
            for stop in generator.stopTokenIDs where stop < logits.count { logits[stop] = -.infinity }
        }
        let filter = recognizer.map {
            JSONTokenFilter(recognizer: $0, tokens: generator.tokenBytes, endTokens: generator.stopTokenIDs)
        }
        guard var id = sampler.sample(&logits, history: history, outputCounts: outputCounts, filter: filter) else {
            // No token continues the JSON text (cannot happen with a byte-fallback vocabulary).
            return end()
        }
        if let closing = closingToken(instead: id) {
            id = closing
            closedByBudget = true
        }
        if ttft == nil { ttft = elapsed() }
        if let lp, let k = request.topLogprobs {
            logprobs?.append(TokenLogprob(
                id: id, text: generator.tokenText(id), logprob: lp[id],
                top: lp.top(k).map { ($0.id, generator.tokenText($0.id), $0.logprob) }))
        }
        if generator.stopTokenIDs.contains(id) {
            finish = .stop
            return end()
        }
        generated.append(id)
        history.append(id)
        outputCounts[id, default: 0] += 1
        if recognizer != nil {
            recognizer!.feed(generator.tokenBytes[id])
            // The value is closed: nothing but the end may follow, so the generation ends here
            // (with `length` when max_tokens made it close early).
            if !recognizer!.canContinue {
                finish = closedByBudget ? .length : .stop
                done = true
            }
        }
        // Before min_tokens the text goes out as it is: a stop string there does not end it.
        let piece = decoder.feed(id)
        release(generated.count <= request.minTokens ? piece : stopper.feed(piece))
        if stopper.matched || finish == .stop {
            finish = .stop
            done = true
        }
        if done || generated.count >= maxTokens { return end() }
        pendingToken = id
    }

    /// Under `request.format`, the token to write instead of `id` when after `id` the tokens left
    /// could not close the JSON value: the first byte of the value's shortest completion
    /// (`JSONRecognizer.completion`), as a one-byte token. The value then still parses when
    /// max_tokens cuts the generation; nil when `id` leaves room, or when no closing fits anyway.
    private func closingToken(instead id: Int) -> Int? {
        guard let recognizer, !generator.stopTokenIDs.contains(id) else { return nil }
        let left = maxTokens - generated.count - 1
        var after = recognizer
        guard after.feed(generator.tokenBytes[id]) else { return nil }
        // Each byte of a completion is one token at most (one-byte tokens). A state whose closing is
        // not found counts as needing more than is left: the current closing is written instead.
        let need = after.canContinue ? (after.completion()?.count ?? Int.max) : 0
        guard need > left else { return nil }
        guard let closing = recognizer.completion(), let first = closing.first, closing.count <= left + 1,
              let token = generator.tokenBytes.singleByte[Int(first)] else { return nil }
        return token
    }

    /// The outcome; complete once `isFinished`.
    public func result() -> GenerationResult {
        GenerationResult(
            text: text, tokenIDs: generated, finishReason: finish, promptTokens: request.promptIDs.count,
            timeToFirstToken: ttft ?? elapsed(), latency: latency ?? elapsed(), seed: sampler.seed, logprobs: logprobs)
    }

    private func end() {
        pendingToken = nil
        guard latency == nil else { return }
        if !stopper.matched {
            // End of generation: what the decoder and the stop matcher held back is final now.
            release(stopper.feed(decoder.finish()) + stopper.flush())
        }
        latency = elapsed()
    }

    private func release(_ piece: String) {
        guard !piece.isEmpty else { return }
        text += piece
        guard let onPiece else { return }
        let fresh = logprobs.map { Array($0[sentLogprobs...]) } ?? []
        sentLogprobs += fresh.count
        if !onPiece(TextPiece(text: piece, logprobs: fresh)) {
            finish = .stop
            done = true
        }
    }

    private func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
}
