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
    /// A segment per pair: the prompt and the chosen response, then the rejected response as a
    /// branch of the prompt (`TokenBatch.Segment`): the prompt runs once and both responses attend
    /// to it, each row computing what it would in its own sequence. Segments are packed one after
    /// another into sequences of up to `PreferenceBatch.defaultPackRows` rows, so little is padded. The
    /// log-probs, the loss and the gradients are the separate layout's; fewer rows are run. Not
    /// TRL's: its logits/* metrics average over padding rows, which this layout does not have
    /// (here they average over the rows that predict a token).
    case shared
    /// The shared layout, and the tokens every pair of a micro-batch begins with (a judge's
    /// instructions before the record) run once per packed sequence as a stem the pairs continue
    /// (`TokenBatch.Segment.stem`; one token short of the common prefix, so pairs must begin with
    /// `PreferenceBatch.minimumStem` + 1 or more tokens alike, else the shared layout). The same
    /// log-probs, loss and gradients again, from fewer rows still.
    case prefix
}

/// B pairs as one model batch: 2B sequences, chosen first then rejected (TRL's
/// concatenated_forward), right-padded to the longest, or segments packed into a few sequences
/// with the rejected response as a branch (`PairLayout.shared`), after a stem of the tokens all
/// pairs begin with (`PairLayout.prefix`). Either way "sequence s" below means chosen i for s = i < B and
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

    /// Rows of a packed sequence in the shared layout (a longer pair gets one of its own).
    public static let defaultPackRows = 512

    /// The shortest stem the prefix layout runs (its pairs then begin with one token more alike).
    public static let minimumStem = 8

    /// `packRows`: the rows of a packed sequence in the shared layout.
    public init(pairs: [TokenizedPair], padID: Int, layout: PairLayout = .separate,
                packRows: Int = PreferenceBatch.defaultPackRows) throws {
        guard !pairs.isEmpty else { throw TrainingError.invalidArgument("a preference batch needs at least one pair") }
        guard packRows > 0 else { throw TrainingError.invalidArgument("packRows must be positive, got \(packRows)") }
        for (i, pair) in pairs.enumerated() {
            for (ids, l, name) in [(pair.chosenIDs, pair.chosenLabels, "chosen"), (pair.rejectedIDs, pair.rejectedLabels, "rejected")]
            where ids.count != l.count {
                throw TrainingError.invalidArgument("pair \(i), \(name): \(ids.count) ids but \(l.count) labels")
            }
        }
        let B = pairs.count
        // The rows of sequence s's positions t: rowOf[s](t).
        var rowOf: [(Int) -> Int] = []
        if layout != .separate, let whole = Self.segments(pairs, packRows: packRows) {
            let (stem, parts) = layout == .prefix ? Self.stemmed(pairs, whole) : ([], whole)
            // Segments packed into k = ⌈rows / packRows⌉ sequences of about equal length (the
            // longest first, each into the shortest sequence so far), which are padded to the
            // longest of them: little padding, and probs of about [packRows, packRows] per
            // sequence and head at most (attention itself is computed per segment, or per stem
            // and its segments). In the prefix layout each sequence opens with its copy of the
            // stem (rows 0 ..< S), which its segments continue: token t < S of any sequence is
            // stem row t.
            let S = stem.count
            let total = parts.reduce(0) { $0 + $1.ids.count }
            let count = max(1, min(parts.count, (total + packRows - S - 1) / (packRows - S)))
            var sequences = [[Int]](repeating: stem, count: count)
            var segments = [[TokenBatch.Segment]](repeating: S > 0 ? [TokenBatch.Segment(start: 0, end: S, isStem: true)] : [],
                                                  count: count)
            var place = [(sequence: Int, offset: Int)](repeating: (0, 0), count: parts.count)
            for i in parts.indices.sorted(by: { (parts[$0].ids.count, $1) > (parts[$1].ids.count, $0) }) {
                let b = sequences.indices.min { (sequences[$0].count, $0) < (sequences[$1].count, $1) }!
                place[i] = (b, sequences[b].count)
                sequences[b] += parts[i].ids
            }
            // Segments in row order, as each sequence was filled.
            for i in parts.indices.sorted(by: { (place[$0].sequence, place[$0].offset) < (place[$1].sequence, place[$1].offset) }) {
                let (b, o) = place[i], part = parts[i]
                segments[b].append(TokenBatch.Segment(start: o, end: o + part.ids.count, shared: part.shared,
                                                      branch: o + part.chosen, stem: 0..<S))
            }
            tokens = try TokenBatch(sequences: sequences, padID: padID, segments: segments)
            let T = tokens.positions
            for at in place { rowOf.append { t in at.sequence * T + (t < S ? t : at.offset + t - S) } }
            for (at, part) in zip(place, parts) {
                rowOf.append { t in
                    at.sequence * T + (t < S ? t : at.offset + (t - S < part.shared ? t - S : part.chosen + t - S - part.shared))
                }
            }
            self.layout = S > 0 ? .prefix : .shared
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

    /// Each pair as one segment of the shared layout: its chosen sequence, then the rejected one from
    /// its last shared token on, as a branch. Rows 0 ..< common − 1 are shared; the branch runs token
    /// common − 1 again (its own copy of the last shared row, which predicts the rejected response's
    /// first token while the original predicts the chosen one's). nil (the separate layout for the
    /// whole batch) when a pair's sequences share less than two tokens (no prompt row to share), or
    /// when a segment is longer than `packRows` (long responses: its block would score the two
    /// responses against each other only to mask them, and set the probs' [T, T] by itself).
    private static func segments(_ pairs: [TokenizedPair], packRows: Int) -> [(ids: [Int], shared: Int, chosen: Int)]? {
        var parts: [(ids: [Int], shared: Int, chosen: Int)] = []
        for pair in pairs {
            let c = pair.chosenIDs, r = pair.rejectedIDs
            var common = 0
            while common < min(c.count, r.count) && c[common] == r[common] { common += 1 }
            guard common >= 2, c.count + r.count - common + 1 <= packRows else { return nil }
            parts.append((c + r[(common - 1)...], common - 1, c.count))
        }
        return parts
    }

    /// The prefix layout's stem and parts from the shared layout's segments (`whole`): the first
    /// S tokens of every sequence of the batch, and each segment after them (the branch's copy of
    /// the last shared row stays the segment's). S is one less than the tokens all sequences begin
    /// with (the segments' first row holds the last common token, which the stem's last row
    /// predicts) and leaves every pair a shared row of its own; no stem and `whole` as it is (the
    /// shared layout) for fewer than two pairs or when S is under `minimumStem`. A part with the
    /// stem is as long as its whole segment, which `segments` kept within packRows.
    private static func stemmed(_ pairs: [TokenizedPair], _ whole: [(ids: [Int], shared: Int, chosen: Int)])
        -> (stem: [Int], parts: [(ids: [Int], shared: Int, chosen: Int)]) {
        guard pairs.count >= 2 else { return ([], whole) }
        let first = pairs[0].chosenIDs
        var common = first.count
        for ids in pairs.flatMap({ [$0.chosenIDs, $0.rejectedIDs] }) {
            var n = 0
            while n < min(common, ids.count) && ids[n] == first[n] { n += 1 }
            common = n
        }
        // Each pair's own shared rows (whole.shared − S) must stay at least one.
        let S = min(common - 1, (whole.map(\.shared).min() ?? 0) - 1)
        guard S >= minimumStem else { return ([], whole) }
        let parts = whole.map { (ids: Array($0.ids[S...]), shared: $0.shared - S, chosen: $0.chosen - S) }
        return (Array(first[..<S]), parts)
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
        case .shared, .prefix:
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
