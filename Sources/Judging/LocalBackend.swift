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
/// With `scoreTokensOnly` (the nodes of a decomposed judge) only the labels' rows of the output
/// head are computed, and the labels' probabilities are normalised over them.
///
/// Consecutive prompts share most of their tokens (the definition, rubric and examples come first),
/// so the KV cache of the previous prompt is kept and only the tokens after the longest common
/// prefix are run: for the banking rubric about 650 of 770 prompt tokens are computed once per run
/// instead of once per record. This is exact (the cache rows of a prefix do not depend on what
/// follows it). The same rollback serves a decomposed judge's nodes: asked one after the other, a
/// record's node prompts share the instructions, question and answer, so each node runs only its
/// own final question (and the first node of the next record only that record's text).
///
/// A label longer than one token ("10" is "1" then "0" for Gemma's tokenizer, which splits digits) is
/// scored by the summed log-probability of its whole token sequence: its later tokens are run on top of
/// the prompt's cache, which is cut back to the prompt afterwards. When one label's tokens begin
/// another's ("1" and "10", "yes" and "yes, partly"), the shorter label gets only the probability of
/// not going on into the longer one, so the scores of all labels are disjoint and sum to at most one.
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

    /// The token ids of each label, as the tokenizer writes the label on its own.
    func labelTokens(_ scale: ScoreScale) throws -> [(label: String, ids: [Int])] {
        var labels: [(label: String, ids: [Int])] = []
        for option in scale.options {
            let ids = loaded.tokenizer.encode(option.label, addBOS: false, parseSpecial: false)
            guard !ids.isEmpty else {
                throw JudgeError.backendUnavailable("the score label '\(option.label)' encodes to no tokens")
            }
            if let clash = labels.first(where: { $0.ids == ids }) {
                throw JudgeError.backendUnavailable(
                    "the score labels '\(clash.label)' and '\(option.label)' encode to the same tokens; the local backend cannot tell them apart")
            }
            labels.append((option.label, ids))
        }
        return labels
    }

    /// Each label's log-probability as the reply's next tokens, given the logits after the prompt that
    /// `cache` holds. Labels of several tokens run their later tokens on the cache, which is cut back
    /// to the prompt before returning (also when a pass fails).
    func labelLogprobs(_ labels: [(label: String, ids: [Int])], promptLogits: [Float], cache: KVCache) throws -> [Double] {
        let promptCount = cache.count
        defer { cache.truncate(to: promptCount) }
        let first = LogProbabilities(logits: promptLogits)
        let vocabulary = promptLogits.count
        var inclusive: [Double] = []
        for label in labels {
            var sum = Double(first[label.ids[0]])
            if label.ids.count > 1 {
                cache.truncate(to: promptCount)
                // Row i of the logits predicts the label's token i + 1.
                let rows = try loaded.model.forward(Array(label.ids.dropLast()), cache: cache, logits: .all)
                for (i, next) in label.ids.dropFirst().enumerated() {
                    sum += Double(LogProbabilities(logits: Array(rows[i * vocabulary ..< (i + 1) * vocabulary]))[next])
                }
            }
            inclusive.append(sum)
        }
        return Self.exclusive(inclusive, ids: labels.map(\.ids))
    }

    /// Log-probabilities of "the reply is this label and not a longer one": a label's probability
    /// less those of the labels that extend it directly (their token sequences start with its own and
    /// no other label lies in between). Direct extensions of one label cannot start one another, so
    /// their events are disjoint and their probabilities add up.
    static func exclusive(_ inclusive: [Double], ids: [[Int]]) -> [Double] {
        func extends(_ longer: [Int], _ shorter: [Int]) -> Bool {
            longer.count > shorter.count && longer.starts(with: shorter)
        }
        return inclusive.indices.map { i in
            let direct = ids.indices.filter { j in
                extends(ids[j], ids[i]) && !ids.indices.contains { k in extends(ids[k], ids[i]) && extends(ids[j], ids[k]) }
            }
            guard !direct.isEmpty else { return inclusive[i] }
            // p_i - sum p_j, computed relative to p_i; rounding can leave nothing, which is "never".
            let rest = 1 - direct.reduce(0) { $0 + exp(inclusive[$1] - inclusive[i]) }
            return rest > 0 ? inclusive[i] + log(rest) : -Double.greatestFiniteMagnitude
        }
    }

    public func complete(_ request: BackendRequest) throws -> BackendReply {
        lock.lock()
        defer { lock.unlock() }
        let tokenizer = loaded.tokenizer
        let model = loaded.model
        // A prompt whose text needs more tokens than the context holds (no token covers more than
        // longestTokenBytes bytes) is refused before tokenizing: a 50 MB answer costs a byte count.
        let bytes = request.prompt.messages.reduce(request.prompt.replyPrefix.utf8.count) { $0 + $1.content.utf8.count }
        let context = model.config.contextLength
        if bytes > context, bytes / loaded.longestTokenBytes > context {
            throw PromptTooLong(description:
                "the judge prompt's \(bytes) bytes need at least \(bytes / loaded.longestTokenBytes) tokens (no token covers "
                    + "more than \(loaded.longestTokenBytes) bytes), more than the context of \(context); not tokenized")
        }
        let promptIDs = try template.encode(request.prompt.messages, tokenizer: tokenizer)
            + tokenizer.encode(request.prompt.replyPrefix, addBOS: false, parseSpecial: false)
        let labels = try labelTokens(request.scale)
        let cache = reusableCache(for: promptIDs)
        cachedIDs = Array(promptIDs[..<cache.count])  // what the cache holds if the pass below fails
        if request.scoreTokensOnly, !request.wantsExplanation, labels.allSatisfy({ $0.ids.count == 1 }) {
            return try scoreTokensOnly(promptIDs, labels: labels, cache: cache, replyPrefix: request.prompt.replyPrefix)
        }
        let logits = try model.forward(Array(promptIDs[cache.count...]), cache: cache, logits: .last)
        cachedIDs = promptIDs
        let logprobs = try labelLogprobs(labels, promptLogits: logits, cache: cache)
        let scored = zip(labels, logprobs).map { (token: $0.label, logprob: $1) }
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

    /// A reply from the logits of the labels' tokens alone: the output head multiplies only their
    /// rows, and the log-probabilities are normalised over the labels (what a node of a decomposed
    /// judge reads; the full head's softmax renormalised over the labels gives the same numbers).
    private func scoreTokensOnly(_ promptIDs: [Int], labels: [(label: String, ids: [Int])], cache: KVCache,
                                 replyPrefix: String) throws -> BackendReply {
        let logits = try loaded.model.forward(Array(promptIDs[cache.count...]), cache: cache, logitsOf: labels.map { $0.ids[0] })
        cachedIDs = promptIDs
        let logprobs = Self.normalised(logits.map(Double.init))
        let scored = zip(labels, logprobs).map { (token: $0.label, logprob: $1) }
        guard let best = scored.max(by: { $0.logprob < $1.logprob }) else {
            throw JudgeError.backendUnavailable("the scale has no options")
        }
        let closing = replyPrefix.hasPrefix("{") ? (replyPrefix.hasSuffix("\"") ? "\"}" : "}") : ""
        return BackendReply(text: replyPrefix + best.token + closing, scoreLogprobs: scored,
                            promptTokens: promptIDs.count, completionTokens: 1)
    }

    /// Log-softmax of `logits`.
    static func normalised(_ logits: [Double]) -> [Double] {
        guard let m = logits.max() else { return [] }
        let logSum = m + log(logits.reduce(0) { $0 + exp($1 - m) })
        return logits.map { $0 - logSum }
    }

    /// Drops the kept cache, so that the next prompt is run from its first token (tests compare
    /// that with the shared-prefix path).
    func forgetCache() {
        lock.lock()
        defer { lock.unlock() }
        cache = nil
        cachedIDs = []
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

/// A record's judge prompt longer than the local model's context can hold, found from its byte
/// count before tokenizing (the record's verdict gets status "error" with this text).
struct PromptTooLong: Error, CustomStringConvertible {
    let description: String
}
