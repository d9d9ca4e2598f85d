import Training

// Length limits as TRL's ORPOTrainer.tokenize_row applies them. When prompt + the longer response
// exceed max_length, a prompt longer than max_prompt_length keeps its last max_prompt_length tokens
// (truncation_mode "keep_end" of the TRL releases that had max_prompt_length); if that is still too
// long, each response keeps its first max_length − (prompt length) tokens, which is what
// trl.experimental.orpo does with the prompt it keeps whole. (The older releases cut responses to
// max_length − max_prompt_length even below a shorter prompt; the two agree whenever the prompt
// was cut.) One difference: TRL's keep_end can cut the BOS off a long prompt; here BOS stays first.

/// What becomes of a pair longer than max_length.
public enum LongPairPolicy: String, CaseIterable, Sendable {
    /// Shorten it as TRL does (and count it in the summary).
    case truncate
    /// Report and skip it.
    case skip
}

/// Applies `maxLength` / `maxPromptLength` to a tokenised pair.
public struct PairTruncation: Sendable {
    public var maxLength: Int
    public var maxPromptLength: Int
    public var policy: LongPairPolicy

    public init(maxLength: Int, maxPromptLength: Int, policy: LongPairPolicy = .truncate) {
        self.maxLength = maxLength
        self.maxPromptLength = maxPromptLength
        self.policy = policy
    }

    /// The pair within the limits and whether it had to be shortened; throws for a pair that is
    /// too long under `.skip`, or has no response token left.
    func apply(_ pair: TokenizedPair) throws -> (pair: TokenizedPair, truncated: Bool) {
        let chosen = Self.split(ids: pair.chosenIDs, labels: pair.chosenLabels)
        let rejected = Self.split(ids: pair.rejectedIDs, labels: pair.rejectedLabels)
        guard !chosen.response.isEmpty, !rejected.response.isEmpty else {
            throw PairInputError.pair("a response has no tokens to learn from (every label is -100)")
        }
        let longer = max(chosen.response.count, rejected.response.count)
        let prompt = max(chosen.prompt.count, rejected.prompt.count)
        guard prompt + longer > maxLength else { return (pair, false) }
        guard policy == .truncate else {
            throw PairInputError.pair("too long: \(prompt) prompt + \(longer) response tokens exceed max_length \(maxLength)")
        }
        func cut(_ part: (prompt: [Int], response: [Int]), responseLimit: Int?) -> (ids: [Int], labels: [Int]) {
            var p = part.prompt
            if p.count > maxPromptLength {
                p = Array(p.prefix(1)) + Array(p.suffix(max(0, maxPromptLength - 1)))
            }
            let r = responseLimit.map { Array(part.response.prefix($0)) } ?? part.response
            return (p + r, [Int](repeating: -100, count: p.count) + r)
        }
        let shortPrompt = min(prompt, maxPromptLength)
        let limit: Int? = shortPrompt + longer > maxLength ? maxLength - shortPrompt : nil
        let c = cut(chosen, responseLimit: limit), r = cut(rejected, responseLimit: limit)
        var result = pair
        result.chosenIDs = c.ids
        result.chosenLabels = c.labels
        result.rejectedIDs = r.ids
        result.rejectedLabels = r.labels
        if result.promptIDs.count > maxPromptLength {
            result.promptIDs = Array(result.promptIDs.prefix(1)) + Array(result.promptIDs.suffix(maxPromptLength - 1))
        }
        return (result, true)
    }

    /// A sequence split at its first label that is not −100.
    static func split(ids: [Int], labels: [Int]) -> (prompt: [Int], response: [Int]) {
        let start = labels.firstIndex { $0 != -100 } ?? ids.count
        return (Array(ids[..<start]), Array(ids[start...]))
    }
}
