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

/// How a micro-batch's pairs become model sequences.
public enum PairLayout: String, Codable, Sendable, CaseIterable {
    /// 2B sequences, chosen first then rejected, right-padded to the longest (TRL's
    /// concatenated_forward): the prompt is run twice, and every sequence is padded.
    case separate
    /// B sequences, one per pair: the prompt and the chosen response, then the rejected response
    /// as a branch of the prompt (`TokenBatch.Branch`): the prompt runs once and both responses
    /// attend to it, each row computing what it would in its own sequence. The log-probs, the loss
    /// and the gradients are the separate layout's; fewer rows are run (the prompt once, less
    /// padding). Not TRL's: its logits/* metrics average over padding rows, which this layout
    /// does not have (here they average over the rows that predict a token).
    case shared
}

/// B pairs as one model batch: 2B sequences, chosen first then rejected (TRL's
/// concatenated_forward), right-padded to the longest, or B sequences with the rejected response
/// as a branch (`PairLayout.shared`). Either way "sequence s" below means chosen i for s = i < B and
/// rejected i for s = B + i, wherever its rows lie.
public struct PreferenceBatch: Sendable {
    public let pairs: [TokenizedPair]
    public let tokens: TokenBatch
    public let layout: PairLayout
    /// Per sequence s (0 ..< 2B), the rows whose target is a completion token (label ≠ −100 at t+1).
    private let completion: [[Int]]
    /// Per sequence s, every row that predicts one of its tokens.
    private let predicting: [[Int]]

    public var pairCount: Int { pairs.count }

    public init(pairs: [TokenizedPair], padID: Int, layout: PairLayout = .separate) throws {
        guard !pairs.isEmpty else { throw TrainingError.invalidArgument("a preference batch needs at least one pair") }
        for (i, pair) in pairs.enumerated() {
            for (ids, l, name) in [(pair.chosenIDs, pair.chosenLabels, "chosen"), (pair.rejectedIDs, pair.rejectedLabels, "rejected")]
            where ids.count != l.count {
                throw TrainingError.invalidArgument("pair \(i), \(name): \(ids.count) ids but \(l.count) labels")
            }
        }
        let B = pairs.count
        // The rows of sequence s's positions t: rowOf[s](t).
        var rowOf: [(Int) -> Int] = []
        // The shared layout needs a first token in common (BOS) to branch from.
        let sharing = layout == .shared && pairs.allSatisfy { $0.chosenIDs.first == $0.rejectedIDs.first && !$0.chosenIDs.isEmpty }
        if sharing {
            var sequences: [[Int]] = [], branches: [TokenBatch.Branch?] = []
            var offsets: [(shared: Int, start: Int)] = []
            for pair in pairs {
                let c = pair.chosenIDs, r = pair.rejectedIDs
                var common = 0
                while common < min(c.count, r.count) && c[common] == r[common] { common += 1 }
                // Rows 0 ..< common - 1 are shared; the rejected branch runs token common - 1 again
                // (its own copy of the last shared row, which predicts the rejected response's first
                // token while the original predicts the chosen one's).
                let shared = common - 1
                sequences.append(c + r[shared...])
                branches.append(shared > 0 ? TokenBatch.Branch(shared: shared, start: c.count) : nil)
                offsets.append((shared, c.count))
            }
            // A pair whose sequences share only their first token has no prompt row to share (a
            // branch must share one or more rows): the whole batch then takes the separate layout.
            if branches.allSatisfy({ $0 != nil }) {
                tokens = try TokenBatch(sequences: sequences, padID: padID, branches: branches)
                let T = tokens.positions
                for i in 0..<B { rowOf.append { t in i * T + t } }
                for (i, o) in offsets.enumerated() {
                    rowOf.append { t in t < o.shared ? i * T + t : i * T + o.start + t - o.shared }
                }
                self.layout = .shared
            } else {
                tokens = try TokenBatch(sequences: pairs.map(\.chosenIDs) + pairs.map(\.rejectedIDs), padID: padID)
                let T = tokens.positions
                rowOf = (0..<(2 * B)).map { s in { t in s * T + t } }
                self.layout = .separate
            }
        } else {
            tokens = try TokenBatch(sequences: pairs.map(\.chosenIDs) + pairs.map(\.rejectedIDs), padID: padID)
            let T = tokens.positions
            rowOf = (0..<(2 * B)).map { s in { t in s * T + t } }
            self.layout = .separate
        }
        let labels = pairs.map(\.chosenLabels) + pairs.map(\.rejectedLabels)
        completion = labels.enumerated().map { s, l in
            (0..<max(0, l.count - 1)).filter { l[$0 + 1] != -100 }.map(rowOf[s])
        }
        predicting = labels.enumerated().map { s, l in (0..<max(0, l.count - 1)).map(rowOf[s]) }
        self.pairs = pairs
    }

    func completionRows(sequence s: Int) -> [Int] { completion[s] }

    /// The rows of the chosen sequences (0 ..< B) whose targets ORPO's NLL term covers under `scope`.
    func nllRows(_ scope: NLLScope) -> [Int] {
        switch scope {
        case .sequence: return (0..<pairCount).flatMap { predicting[$0] }
        case .completion: return (0..<pairCount).flatMap { completionRows(sequence: $0) }
        }
    }

    /// The rows TRL's logits/chosen (`chosen`) or logits/rejected metric averages: in the separate
    /// layout rows 0 ..< T−1 of each sequence of that half, padding included (TRL's
    /// `all_logits[:B, :-1, :]`); in the shared layout the rows that predict a token of that half's
    /// sequences.
    func metricRows(chosen: Bool) -> [Int] {
        let half = chosen ? 0..<pairCount : pairCount..<(2 * pairCount)
        switch layout {
        case .separate:
            let T = tokens.positions
            return half.flatMap { s in (0..<max(0, T - 1)).map { s * T + $0 } }
        case .shared:
            return half.flatMap { predicting[$0] }
        }
    }

    /// Every row whose log-prob ORPO reads, ascending: the NLL's rows and the completion rows of
    /// every sequence (the rejected sequences' prompt rows are not among them). What to pass as
    /// `lossRows` to `TrainableGemma.forward`.
    public func lossRows(nll scope: NLLScope) -> [Int] {
        Array(Set(nllRows(scope) + completion.joined())).sorted()
    }

    /// Real tokens of both sequences of every pair (what tokens/s counts, whatever the layout).
    public var pairTokens: Int { pairs.reduce(0) { $0 + $1.chosenIDs.count + $1.rejectedIDs.count } }
}
