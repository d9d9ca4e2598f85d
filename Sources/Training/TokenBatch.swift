/// Sequences of token ids, right-padded to one length T as TRL's collator pads them, with the
/// next-token targets the model's log-probs are read at.
///
/// Row b·T + t holds token t of sequence b; its target is token t+1 when that is a real token,
/// otherwise −1 (the last real token and every padding position predict nothing).
public struct TokenBatch: Sendable, Equatable {
    public let sequences: [[Int]]
    public let positions: Int
    public let padID: Int
    /// [B·T] ids, padded with `padID`.
    public let paddedIDs: [Int]
    /// [B·T] next-token targets or −1.
    public let targets: [Int]

    /// Per sequence, a second branch sharing its first rows, or nil (`Branch`).
    public let branches: [Branch?]

    public var batchSize: Int { sequences.count }
    public var lengths: [Int] { sequences.map(\.count) }

    /// Two continuations of one prefix in one sequence: rows `0 ..< start` are the prefix and the
    /// first continuation (causal as usual); rows from `start` on are the second continuation of
    /// the prefix's first `shared` rows. They sit at positions `shared, shared + 1, ...` and see
    /// only rows `0 ..< shared` and their own branch up to themselves, so each branch computes what
    /// it would alone after the prefix (a preference pair's chosen and rejected response after one
    /// run of their prompt). The row before `start` predicts nothing (its next row begins the other
    /// branch).
    public struct Branch: Sendable, Equatable {
        public let shared: Int
        public let start: Int

        public init(shared: Int, start: Int) {
            self.shared = shared
            self.start = start
        }
    }

    /// The position (for RoPE and the sliding window) of row `t` of sequence `b`.
    public func position(row t: Int, sequence b: Int) -> Int {
        guard let branch = branches[b], t >= branch.start else { return t }
        return branch.shared + t - branch.start
    }

    /// `positions` defaults to the longest sequence; a larger value pads further. `branches`, when
    /// given, has one entry per sequence (`Branch`; 0 < shared < start < the sequence's length).
    public init(sequences: [[Int]], padID: Int, positions: Int? = nil, branches: [Branch?]? = nil) throws {
        guard !sequences.isEmpty else { throw TrainingError.invalidArgument("a token batch needs at least one sequence") }
        if let i = sequences.firstIndex(where: { $0.isEmpty }) {
            throw TrainingError.invalidArgument("sequence \(i) of the batch is empty")
        }
        let longest = sequences.map(\.count).max() ?? 0
        let T = positions ?? longest
        guard T >= longest else {
            throw TrainingError.invalidArgument("batch length \(T) is shorter than its longest sequence (\(longest))")
        }
        let branches = branches ?? Array(repeating: nil, count: sequences.count)
        guard branches.count == sequences.count else {
            throw TrainingError.invalidArgument("\(branches.count) branch entries for \(sequences.count) sequences")
        }
        for (b, branch) in branches.enumerated() {
            guard let branch else { continue }
            guard branch.shared > 0, branch.shared < branch.start, branch.start < sequences[b].count else {
                throw TrainingError.invalidArgument(
                    "sequence \(b): a branch must share 1 or more rows and start inside the sequence " +
                    "(shared \(branch.shared), start \(branch.start), length \(sequences[b].count))")
            }
        }
        self.sequences = sequences
        self.positions = T
        self.padID = padID
        self.branches = branches
        var ids = [Int](), targets = [Int]()
        ids.reserveCapacity(sequences.count * T)
        targets.reserveCapacity(sequences.count * T)
        for (b, s) in sequences.enumerated() {
            let cut = branches[b]?.start
            for t in 0..<T {
                ids.append(t < s.count ? s[t] : padID)
                targets.append(t + 1 < s.count && t + 1 != cut ? s[t + 1] : -1)
            }
        }
        paddedIDs = ids
        self.targets = targets
    }
}
