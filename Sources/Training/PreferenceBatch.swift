/// One prompt with a preferred and a dispreferred response, tokenised as TRL's ORPO trainer
/// tokenises it (docs/orpo.md, "Tokenisation"): BOS, prompt, response appended directly to the
/// prompt text, EOS.
/// Labels use −100 for masked (prompt) positions, as TRL's do.
public struct TokenizedPair: Sendable, Equatable, Codable {
    public var promptIDs: [Int]
    public var chosenIDs: [Int]
    public var chosenLabels: [Int]
    public var rejectedIDs: [Int]
    public var rejectedLabels: [Int]

    enum CodingKeys: String, CodingKey {
        case promptIDs = "prompt_input_ids", chosenIDs = "chosen_input_ids", chosenLabels = "chosen_labels"
        case rejectedIDs = "rejected_input_ids", rejectedLabels = "rejected_labels"
    }

    public init(promptIDs: [Int], chosenIDs: [Int], chosenLabels: [Int], rejectedIDs: [Int], rejectedLabels: [Int]) {
        self.promptIDs = promptIDs
        self.chosenIDs = chosenIDs
        self.chosenLabels = chosenLabels
        self.rejectedIDs = rejectedIDs
        self.rejectedLabels = rejectedLabels
    }
}

/// B pairs as one model batch of 2B sequences, chosen first then rejected (TRL's
/// concatenated_forward), right-padded to the longest.
public struct PreferenceBatch: Sendable {
    public let pairs: [TokenizedPair]
    public let tokens: TokenBatch
    /// Per sequence, the rows b·T + t whose target is a completion token (label ≠ −100 at t+1).
    private let completion: [[Int]]

    public var pairCount: Int { pairs.count }

    public init(pairs: [TokenizedPair], padID: Int) throws {
        guard !pairs.isEmpty else { throw TrainingError.invalidArgument("a preference batch needs at least one pair") }
        let sequences = pairs.map(\.chosenIDs) + pairs.map(\.rejectedIDs)
        let labels = pairs.map(\.chosenLabels) + pairs.map(\.rejectedLabels)
        for (s, (ids, l)) in zip(sequences, labels).enumerated() where ids.count != l.count {
            throw TrainingError.invalidArgument("sequence \(s): \(ids.count) ids but \(l.count) labels")
        }
        tokens = try TokenBatch(sequences: sequences, padID: padID)
        let T = tokens.positions
        completion = labels.enumerated().map { s, l in
            (0..<max(0, l.count - 1)).filter { l[$0 + 1] != -100 }.map { s * T + $0 }
        }
        self.pairs = pairs
    }

    func completionRows(sequence s: Int) -> [Int] { completion[s] }

    /// The rows of the chosen sequences (0 ..< B) whose targets ORPO's NLL term covers under `scope`.
    func nllRows(_ scope: NLLScope) -> [Int] {
        let T = tokens.positions
        switch scope {
        case .sequence:
            return (0..<pairCount).flatMap { s in (0..<T).map { s * T + $0 }.filter { tokens.targets[$0] >= 0 } }
        case .completion:
            return (0..<pairCount).flatMap { completionRows(sequence: $0) }
        }
    }

    /// Every row whose log-prob ORPO reads, ascending: the NLL's rows and the completion rows of
    /// every sequence (the rejected sequences' prompt rows are not among them). What to pass as
    /// `lossRows` to `TrainableGemma.forward`.
    public func lossRows(nll scope: NLLScope) -> [Int] {
        Array(Set(nllRows(scope) + completion.joined())).sorted()
    }
}
