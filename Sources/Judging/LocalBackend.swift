import Foundation
import Gemma
import Records

/// A judge backend that runs a Gemma model in process and reads the score from its next-token
/// probabilities instead of sampling it.
///
/// The judge prompt goes through Gemma's chat template, then the reply's opening (`{"score": `) is
/// appended as if the model had written it, and one forward pass gives the distribution over the next
/// token: the log-probabilities of the allowed score tokens ("0"/"1", "1"..."5", "A"/"B") are the
/// judgement (G-Eval's probability-weighted scoring). An explanation costs a short greedy generation
/// after the most likely score, so it is only written when asked for (`--explain`).
///
/// Consecutive prompts share most of their tokens (the definition, rubric and examples come first),
/// so the KV cache of the previous prompt is kept and only the tokens after the longest common
/// prefix are run: for the banking rubric about 650 of 770 prompt tokens are computed once per run
/// instead of once per record. This is exact (the cache rows of a prefix do not depend on what
/// follows it).
///
/// A label longer than one token is scored by its first token; labels whose first tokens coincide are
/// refused when the backend is asked to score them.
public final class LocalBackend: JudgeBackend, @unchecked Sendable {
    public let loaded: LoadedModel
    public let template: ChatTemplate
    /// Tokens of explanation at most.
    public var maxExplanationTokens: Int
    /// One judgement at a time: the model's scratch buffers are not shared between threads, and its
    /// matrix products already use every core.
    private let lock = NSLock()
    /// The cache of the previous call and the token ids it holds.
    private var cache: KVCache?
    private var cachedIDs: [Int] = []

    /// The LoRA adapter already applied to `model`, if any: its name and a digest of its files, so
    /// that the cache tells judgements of different adapters apart.
    public let adapter: (name: String, sha256: String)?

    public init(model: LoadedModel, adapter: (name: String, sha256: String)? = nil, maxExplanationTokens: Int = 48) throws {
        loaded = model
        self.adapter = adapter
        template = try ChatTemplate(tokenizer: model.tokenizer)
        self.maxExplanationTokens = maxExplanationTokens
    }

    public var modelName: String { adapter.map { "\(loaded.name)+\($0.name)" } ?? loaded.name }

    public var parameters: JSONObject {
        var p: JSONObject = ["backend": "local", "path": .string(loaded.path), "max_explanation_tokens": JSONValue(maxExplanationTokens)]
        if let adapter {
            p["adapter"] = .string(adapter.name)
            p["adapter_sha256"] = .string(adapter.sha256)
        }
        return p
    }

    /// The token id of each label's first token.
    func labelTokens(_ scale: ScoreScale) throws -> [(label: String, id: Int)] {
        var pairs: [(label: String, id: Int)] = []
        for option in scale.options {
            let ids = loaded.tokenizer.encode(option.label, addBOS: false, parseSpecial: false)
            guard let first = ids.first else {
                throw JudgeError.backendUnavailable("the score label '\(option.label)' encodes to no tokens")
            }
            if let clash = pairs.first(where: { $0.id == first }) {
                throw JudgeError.backendUnavailable(
                    "the score labels '\(clash.label)' and '\(option.label)' start with the same token; the local backend cannot tell them apart")
            }
            pairs.append((option.label, first))
        }
        return pairs
    }

    public func complete(_ request: BackendRequest) throws -> BackendReply {
        lock.lock()
        defer { lock.unlock() }
        let tokenizer = loaded.tokenizer
        let model = loaded.model
        let promptIDs = try template.encode(request.prompt.messages, tokenizer: tokenizer)
            + tokenizer.encode(request.prompt.replyPrefix, addBOS: false, parseSpecial: false)
        let labels = try labelTokens(request.scale)
        let cache = reusableCache(for: promptIDs)
        cachedIDs = Array(promptIDs[..<cache.count])  // what the cache holds if the pass below fails
        let logits = try model.forward(Array(promptIDs[cache.count...]), cache: cache, logits: .last)
        cachedIDs = promptIDs
        let logprobs = LogProbabilities(logits: logits)
        let scored = labels.map { (token: $0.label, logprob: Double(logprobs[$0.id])) }
        guard let best = scored.max(by: { $0.logprob < $1.logprob }) else {
            throw JudgeError.backendUnavailable("the scale has no options")
        }
        let prefix = request.prompt.replyPrefix
        let closeQuote = prefix.hasSuffix("\"") ? "\"" : ""
        var text = prefix + best.token + closeQuote
        var completionTokens = 1
        if request.wantsExplanation {
            let lead = prefix.hasPrefix("{") ? ", \"explanation\": \"" : "\n"
            let explanation = try greedy(after: best.token + closeQuote + lead, cache: cache,
                                         stopAt: prefix.hasPrefix("{") ? "\"" : "\n")
            completionTokens += explanation.tokens
            text += lead + explanation.text + (prefix.hasPrefix("{") ? "\"" : "")
        }
        if prefix.hasPrefix("{") { text += "}" }
        return BackendReply(text: text, scoreLogprobs: scored, promptTokens: promptIDs.count, completionTokens: completionTokens)
    }

    /// The kept cache cut back to the longest prefix it shares with `ids`, leaving at least one
    /// token to run (the logits come from the last one).
    private func reusableCache(for ids: [Int]) -> KVCache {
        let cache = self.cache ?? KVCache(config: loaded.model.config, initialCapacity: max(1024, ids.count))
        self.cache = cache
        var shared = 0
        let limit = min(cachedIDs.count, cache.count, ids.count - 1)
        while shared < limit && cachedIDs[shared] == ids[shared] { shared += 1 }
        cache.truncate(to: shared)
        return cache
    }

    /// Greedy continuation from the cache after feeding `lead`, up to the first `stopAt` or the end of
    /// the turn. JSON escapes the model writes (\") are kept as written.
    private func greedy(after lead: String, cache: KVCache, stopAt: String) throws -> (text: String, tokens: Int) {
        let tokenizer = loaded.tokenizer
        let stops = loaded.generator.stopTokenIDs
        var logits = try loaded.model.forward(tokenizer.encode(lead, addBOS: false, parseSpecial: false), cache: cache, logits: .last)
        var ids: [Int] = []
        var text = ""
        while ids.count < maxExplanationTokens {
            var bestID = 0
            for i in 1..<logits.count where logits[i] > logits[bestID] { bestID = i }
            if stops.contains(bestID) { break }
            ids.append(bestID)
            text = tokenizer.decode(ids, skipSpecial: true)
            if let r = text.range(of: stopAt) {
                text = String(text[..<r.lowerBound])
                break
            }
            guard ids.count < maxExplanationTokens, cache.count < cache.limit else { break }
            // The cache now holds more than the prompt; the next call's prefix match stops before it.
            logits = try loaded.model.forward([bestID], cache: cache, logits: .last)
        }
        return (text.trimmingCharacters(in: .whitespacesAndNewlines), ids.count)
    }
}
