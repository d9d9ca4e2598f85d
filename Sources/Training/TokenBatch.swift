/// Sequences of token ids, right-padded to one length T as TRL's collator pads them, with the
/// next-token targets the model's log-probs are read at.
///
/// Row b·T + t holds token t of sequence b; its target is token t+1 when that is a real token,
/// otherwise −1 (the last real token and every padding position predict nothing).
///
/// A sequence may instead hold several independent segments, one after the other (`Segment`):
/// each sees only itself, sits at positions counted from its own start, and may carry a second
/// branch of its prefix, and several segments may continue one stem segment before them (the
/// prompt text a micro-batch's pairs all begin with, run once). Preference pairs are packed so
/// (`PairLayout.shared`, `PairLayout.prefix`).
public struct TokenBatch: Sendable, Equatable {
    public let sequences: [[Int]]
    public let positions: Int
    public let padID: Int
    /// [B·T] ids, padded with `padID`.
    public let paddedIDs: [Int]
    /// [B·T] next-token targets or −1.
    public let targets: [Int]
    /// Per sequence, its segments in row order; empty: the whole sequence is one, without a branch.
    public let segments: [[Segment]]

    public var batchSize: Int { sequences.count }
    public var lengths: [Int] { sequences.map(\.count) }

    /// Rows `start ..< end` of a sequence that form a sequence of their own: row `start + t` sits at
    /// position t and sees only the segment's rows before it. With a branch (`branch < end`),
    /// rows `branch ..< end` are a second continuation of the segment's first `shared` rows: they
    /// sit at positions `shared, shared + 1, ...` and see only those rows and their own branch up
    /// to themselves, so each continuation computes what it would alone after the prefix (a
    /// preference pair's chosen and rejected response after one run of their prompt). The last row
    /// of the segment and the row before its branch predict nothing.
    ///
    /// A segment may continue a stem (`stem`, the rows of an earlier segment of the same sequence
    /// made with `isStem`): its rows then sit `stem.count` positions further on and see the stem's
    /// rows before their own, as if the stem's tokens began the segment. The segments continuing a
    /// stem follow it, one after another; the stem's last row predicts the token after it (the
    /// first row of the first segment continuing it, which every such segment begins with).
    public struct Segment: Sendable, Equatable {
        public let start: Int
        public let end: Int
        public let shared: Int
        public let branch: Int
        /// The rows of the stem this segment continues; empty: none.
        public let stem: Range<Int>
        /// Whether this segment is a stem that the segments after it continue.
        public let isStem: Bool

        /// A segment without a branch: `shared` 0, `branch` = `end`.
        public init(start: Int, end: Int, shared: Int = 0, branch: Int? = nil, stem: Range<Int> = 0..<0,
                    isStem: Bool = false) {
            self.start = start
            self.end = end
            self.shared = shared
            self.branch = branch ?? end
            self.stem = stem.isEmpty ? 0..<0 : stem
            self.isStem = isStem
        }

        var hasBranch: Bool { branch < end }

        /// The position of row t of the segment's sequence (t in start ..< end).
        func position(_ t: Int) -> Int { stem.count + (t < branch ? t - start : shared + t - branch) }
    }

    /// The segment of sequence `b` holding row `t`, nil for a sequence without segments and for
    /// padding.
    func segment(row t: Int, sequence b: Int) -> Segment? {
        let list = segments[b]
        guard !list.isEmpty else { return nil }
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].end <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo < list.count && list[lo].start <= t ? list[lo] : nil
    }

    /// Positions the batch needs of the context: T, but in a batch of segments the longest segment's
    /// (a branch reuses its prefix's positions).
    public var positionCount: Int {
        guard segments.contains(where: { !$0.isEmpty }) else { return positions }
        return segments.map { list in
            list.isEmpty ? positions : list.map { max($0.position($0.branch - 1), $0.position($0.end - 1)) + 1 }.max() ?? 0
        }.max() ?? 0
    }

    /// The position (for RoPE and the sliding window) of row `t` of sequence `b`.
    public func position(row t: Int, sequence b: Int) -> Int {
        segment(row: t, sequence: b)?.position(t) ?? t
    }

    /// `positions` defaults to the longest sequence; a larger value pads further. `segments`, when
    /// given, has one list per sequence: segments in order, not overlapping, inside the sequence,
    /// each of two or more rows, a branch sharing 1 or more rows and starting after them, a stem
    /// without a branch or a stem of its own, and the segments continuing a stem right after it
    /// and after each other.
    public init(sequences: [[Int]], padID: Int, positions: Int? = nil, segments: [[Segment]]? = nil) throws {
        guard !sequences.isEmpty else { throw TrainingError.invalidArgument("a token batch needs at least one sequence") }
        if let i = sequences.firstIndex(where: { $0.isEmpty }) {
            throw TrainingError.invalidArgument("sequence \(i) of the batch is empty")
        }
        let longest = sequences.map(\.count).max() ?? 0
        let T = positions ?? longest
        guard T >= longest else {
            throw TrainingError.invalidArgument("batch length \(T) is shorter than its longest sequence (\(longest))")
        }
        let segments = segments ?? Array(repeating: [], count: sequences.count)
        guard segments.count == sequences.count else {
            throw TrainingError.invalidArgument("\(segments.count) segment lists for \(sequences.count) sequences")
        }
        for (b, list) in segments.enumerated() {
            var previous = 0
            // The stem the segments since the last stem may continue, while they do.
            var open: Range<Int>? = nil
            for s in list {
                let branched = !s.hasBranch || (s.shared > 0 && s.start + s.shared < s.branch)
                guard s.start >= previous, s.end > s.start + 1, s.end <= sequences[b].count, s.branch <= s.end, branched else {
                    throw TrainingError.invalidArgument(
                        "sequence \(b): segment \(s.start)..<\(s.end) (shared \(s.shared), branch \(s.branch)) " +
                        "is out of order, outside the sequence, or branches without a shared prefix")
                }
                let stemmed = s.stem.isEmpty || (s.stem == open && s.start == previous)
                guard stemmed, !s.isStem || (s.stem.isEmpty && !s.hasBranch) else {
                    throw TrainingError.invalidArgument(
                        "sequence \(b): segment \(s.start)..<\(s.end) continues rows \(s.stem) that are not the stem " +
                        "right before it, or is a stem with a branch or a stem")
                }
                if s.isStem { open = s.start..<s.end } else if s.stem.isEmpty { open = nil }
                previous = s.end
            }
        }
        self.sequences = sequences
        self.positions = T
        self.padID = padID
        self.segments = segments
        var ids = [Int](), targets = [Int]()
        ids.reserveCapacity(sequences.count * T)
        targets.reserveCapacity(sequences.count * T)
        for (b, s) in sequences.enumerated() {
            // Rows whose next row begins another segment or branch predict nothing.
            // A stem's last row predicts the first token of the segments continuing it (their
            // first rows all hold it), so neither its end nor the first one's start cuts.
            var cuts = Set<Int>(), kept = Set<Int>()
            for segment in segments[b] {
                cuts.insert(segment.end)
                if segment.hasBranch { cuts.insert(segment.branch) }
                cuts.insert(segment.start)
                if !segment.stem.isEmpty && segment.start == segment.stem.upperBound { kept.insert(segment.start) }
            }
            cuts.subtract(kept)
            for t in 0..<T {
                ids.append(t < s.count ? s[t] : padID)
                targets.append(t + 1 < s.count && !cuts.contains(t + 1) ? s[t + 1] : -1)
            }
        }
        paddedIDs = ids
        self.targets = targets
    }
}
