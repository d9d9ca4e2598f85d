import Tokenizers

/// Tokenises preference pairs as TRL's ORPOTrainer.tokenize_row does for decoder-only models
/// (docs/orpo.md, "Tokenisation"): enc(prompt) and enc(prompt + response) without special tokens;
/// the response is the tail of the joint encoding after the prompt's tokens (one token earlier when
/// the joint encoding merged across the boundary); BOS first unless present; EOS appended unless
/// present; the prompt part of the labels masked with −100; the response truncated to `maxLength`.
public struct PreferenceTokenizer: Sendable {
    public let tokenizer: any TextTokenizer
    public let bosID: Int
    public let eosID: Int
    public let maxLength: Int

    public init(tokenizer: any TextTokenizer, bosID: Int, eosID: Int, maxLength: Int = 1024) {
        self.tokenizer = tokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.maxLength = maxLength
    }

    public func tokenize(prompt: String, chosen: String, rejected: String) throws -> TokenizedPair {
        let promptOnly = tokenizer.encode(prompt, addBOS: false, parseSpecial: true)
        let c = answer(prompt: prompt, promptOnly: promptOnly, response: chosen)
        let r = answer(prompt: prompt, promptOnly: promptOnly, response: rejected)
        let differing = zip(c.prompt, r.prompt).filter { $0 != $1 }.count
        guard differing <= 1, abs(c.prompt.count - r.prompt.count) <= 1 else {
            throw TrainingError.invalidArgument("the chosen and rejected encodings of the prompt differ by more than one token")
        }
        let promptLength = min(c.prompt.count, r.prompt.count)
        func withBOS(_ ids: [Int]) -> [Int] { ids.first == bosID ? ids : [bosID] + ids }
        func withEOS(_ ids: [Int]) -> [Int] { ids.last == eosID ? ids : ids + [eosID] }
        func sequence(_ part: (prompt: [Int], response: [Int])) -> (ids: [Int], labels: [Int]) {
            let p = withBOS(part.prompt)
            var response = withEOS(part.response)
            if p.count + response.count > maxLength { response = Array(response.prefix(max(0, maxLength - p.count))) }
            return (p + response, [Int](repeating: -100, count: p.count) + response)
        }
        let chosenSeq = sequence(c), rejectedSeq = sequence(r)
        return TokenizedPair(
            promptIDs: withBOS(Array(promptOnly.prefix(promptLength))),
            chosenIDs: chosenSeq.ids, chosenLabels: chosenSeq.labels,
            rejectedIDs: rejectedSeq.ids, rejectedLabels: rejectedSeq.labels)
    }

    private func answer(prompt: String, promptOnly: [Int], response: String) -> (prompt: [Int], response: [Int]) {
        let full = tokenizer.encode(prompt + response, addBOS: false, parseSpecial: true)
        var start = min(promptOnly.count, full.count)
        if Array(full.prefix(start)) != promptOnly { start = max(0, start - 1) }
        return (Array(full[..<start]), Array(full[start...]))
    }
}
