import Foundation
import TensorKit

// Scaled dot-product attention as HF's Gemma runs it on a right-padded batch (docs/gemma.md,
// "Attention"): scores = scale · q kᵀ, Gemma 2's softcap, then the mask, softmax in float32,
// out = P v.
// GQA: each KV head serves H/Hkv query heads. A query at position i sees key j iff j ≤ i, j is not
// padding (j < length of its sequence) and, on sliding layers, j > i − W. Padding queries thus
// attend to the real tokens before them, as HF's key-only padding mask lets them.

/// Shapes: B sequences of T positions; q and dq [B·T, H·d], k, v, dk, dv [B·T, Hkv·d];
/// probs (and capped scores) [B, H, T, T]; out [B·T, H·d].
///
/// Attention is computed block by block: a sequence without segments is one block of T rows; a
/// sequence of segments (`TokenBatch.Segment`) has a block per segment, or per stem with the
/// segments continuing it, whose rows see nothing outside it, so only the block's [rows, rows]
/// corner of probs is computed and read (padding rows after the last segment get no attention:
/// their output is 0).
struct AttentionShape: Sendable {
    let batch: Int
    let positions: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let scale: Float
    let softcap: Float?
    /// Keys a sliding layer sees (the query's own included); nil on global layers.
    let window: Int?
    /// Real (non-padding) tokens of each sequence.
    let lengths: [Int]
    /// Each sequence's segments (`TokenBatch.segments`; empty: none).
    var segments: [[TokenBatch.Segment]] = []

    /// Rows `rows` of sequence `sequence` that attend among themselves only, and their segments
    /// (one, or a stem and the segments continuing it; none for a sequence without segments).
    struct Block: Sendable {
        let sequence: Int
        let rows: Range<Int>
        let segments: [TokenBatch.Segment]
    }

    var blocks: [Block] {
        (0..<batch).flatMap { b -> [Block] in
            let list = b < segments.count ? segments[b] : []
            guard !list.isEmpty else { return [Block(sequence: b, rows: 0..<positions, segments: [])] }
            var blocks: [Block] = []
            for s in list {
                if !s.stem.isEmpty, let last = blocks.last, last.segments.first?.isStem == true,
                   last.rows.lowerBound == s.stem.lowerBound {
                    blocks[blocks.count - 1] = Block(sequence: b, rows: last.rows.lowerBound..<s.end,
                                                     segments: last.segments + [s])
                } else {
                    blocks.append(Block(sequence: b, rows: s.start..<s.end, segments: [s]))
                }
            }
            return blocks
        }
    }

    /// The visible keys of query i of `block`, in ascending order: one range; in a segment's
    /// branch two (the segment's shared prefix and the branch's own rows); in a segment continuing
    /// a stem, the stem's rows first. Unused ranges are empty.
    func visibleKeys(query i: Int, block: Block) -> (Range<Int>, Range<Int>, Range<Int>) {
        guard !block.segments.isEmpty else {
            let hi = min(i + 1, lengths[block.sequence])
            let lo = window.map { max(0, i - $0 + 1) } ?? 0
            return (lo..<max(lo, hi), 0..<0, 0..<0)
        }
        let s = block.segments.count == 1 ? block.segments[0] : block.segments.last { $0.start <= i }!
        // Position p sees the keys at positions above p − window: in the stem, rows from
        // stem.lowerBound + p − window + 1 on.
        let position = s.position(i)
        var stem = 0..<0
        if !s.stem.isEmpty {
            let lo = min(s.stem.upperBound, s.stem.lowerBound + (window.map { max(0, position - $0 + 1) } ?? 0))
            stem = lo..<s.stem.upperBound
        }
        guard i >= s.branch else {
            let lo = window.map { max(s.start, i - $0 + 1) } ?? s.start
            return (stem, lo..<(i + 1), 0..<0)
        }
        // The branch: row i sits at position stem + shared + i − branch; prefix row j at stem + j − start.
        let local = position - s.stem.count
        let prefixEnd = s.start + s.shared
        let lo = min(prefixEnd, s.start + (window.map { max(0, local - $0 + 1) } ?? 0))
        let own = window.map { max(s.branch, i - $0 + 1) } ?? s.branch
        return (stem, lo..<prefixEnd, own..<(i + 1))
    }
}

enum Attention {
    /// out = softmax(mask(softcap(scale · q kᵀ))) v per block and head. Saves probs and, with a
    /// softcap, the capped scores (`capped`, same shape as probs) for the backward.
    static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                        capped: UnsafeMutablePointer<Float>?, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                        v: UnsafePointer<Float>, shape s: AttentionShape, pool: ComputePool) {
        let T = s.positions, d = s.headDim, qw = s.heads * d, kw = s.kvHeads * d
        let group = s.heads / s.kvHeads
        let blocks = s.blocks
        // Rows in no block (padding after a sequence's last segment) get no attention.
        for b in 0..<s.batch where b < s.segments.count && !s.segments[b].isEmpty {
            let covered = s.segments[b].last!.end
            (out + (b * T + covered) * qw).update(repeating: 0, count: (T - covered) * qw)
        }
        pool.parallelFor(blocks.count * s.heads, chunk: 1) { range, _ in
            for job in range {
                let block = blocks[job / s.heads], head = job % s.heads, g = head / group
                let b = block.sequence, lo = block.rows.lowerBound, n = block.rows.count
                let matrix = (b * s.heads + head) * T * T
                let P = probs + matrix
                let qh = q + (b * T + lo) * qw + head * d
                let kh = k + (b * T + lo) * kw + g * d, vh = v + (b * T + lo) * kw + g * d
                BLAS.sgemm(transposeB: true, m: n, n: n, k: d, alpha: s.scale, a: qh, lda: qw, b: kh, ldb: kw,
                           c: P + lo * T + lo, ldc: T)
                for i in block.rows {
                    let row = P + i * T
                    let (stem, keys, own) = s.visibleKeys(query: i, block: block)
                    if let cap = s.softcap, let capped {
                        for r in [stem, keys, own] { Softcap.forward(row + r.lowerBound, count: r.count, cap: cap) }
                        (capped + matrix + i * T).update(from: row, count: T)
                    }
                    softmax(row, [stem, keys, own], count: T)
                }
                BLAS.sgemm(m: n, n: d, k: n, a: P + lo * T + lo, lda: T, b: vh, ldb: kw,
                           c: out + (b * T + lo) * qw + head * d, ldc: qw)
            }
        }
    }

    /// dq += scale · dS k, dk += scale · dSᵀ q, dv += Pᵀ dout, with dP = dout vᵀ and
    /// dS = P ⊙ (dP − Σ_j P_j dP_j) (through the softcap's 1 − (y/cap)² when there is one), block
    /// by block. Blocks run in parallel; the heads of one block run in turn, since heads sharing a
    /// KV head add into the same dk and dv rows.
    static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                         probs: UnsafePointer<Float>, capped: UnsafePointer<Float>?,
                         q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         shape s: AttentionShape, pool: ComputePool) {
        let T = s.positions, d = s.headDim, qw = s.heads * d, kw = s.kvHeads * d
        let group = s.heads / s.kvHeads
        let blocks = s.blocks
        pool.parallelFor(blocks.count, chunk: 1) { range, _ in
            let dS = FloatBuffer(count: T * T)
            for index in range {
                let block = blocks[index]
                let b = block.sequence, lo = block.rows.lowerBound, n = block.rows.count
                for head in 0..<s.heads {
                    let matrix = (b * s.heads + head) * T * T, g = head / group
                    let P = probs + matrix + lo * T + lo
                    let qh = q + (b * T + lo) * qw + head * d, dqh = dq + (b * T + lo) * qw + head * d
                    let kh = k + (b * T + lo) * kw + g * d, dkh = dk + (b * T + lo) * kw + g * d
                    let vh = v + (b * T + lo) * kw + g * d, dvh = dv + (b * T + lo) * kw + g * d
                    let doh = dout + (b * T + lo) * qw + head * d
                    // dS is the block's [n, n], rows of n.
                    BLAS.sgemm(transposeB: true, m: n, n: n, k: d, a: doh, lda: qw, b: vh, ldb: kw,
                               c: dS.pointer, ldc: n)
                    BLAS.sgemm(transposeA: true, m: n, n: d, k: n, a: P, lda: T, b: doh, ldb: qw,
                               beta: 1, c: dvh, ldc: kw)
                    for i in 0..<n {
                        let p = P + i * T, ds = dS.pointer + i * n
                        var dot: Float = 0
                        for j in 0..<n { dot += p[j] * ds[j] }
                        for j in 0..<n { ds[j] = p[j] * (ds[j] - dot) }
                        if let cap = s.softcap, let capped {
                            Softcap.backward(ds, y: capped + matrix + (lo + i) * T + lo, count: n, cap: cap)
                        }
                    }
                    BLAS.sgemm(m: n, n: d, k: n, alpha: s.scale, a: dS.pointer, lda: n, b: kh, ldb: kw,
                               beta: 1, c: dqh, ldc: qw)
                    BLAS.sgemm(transposeA: true, m: n, n: d, k: n, alpha: s.scale, a: dS.pointer, lda: n,
                               b: qh, ldb: qw, beta: 1, c: dkh, ldc: kw)
                }
            }
        }
    }

    /// Softmax over the visible keys of one row (`ranges`: ascending, some maybe empty, which
    /// every loop below passes over); every other entry becomes 0. A row without visible keys
    /// (only padding queries far past a sliding window) stays all zero.
    private static func softmax(_ row: UnsafeMutablePointer<Float>, _ ranges: [Range<Int>], count T: Int) {
        var next = 0
        for r in ranges {
            for j in next..<max(next, r.lowerBound) { row[j] = 0 }
            next = max(next, r.upperBound)
        }
        for j in next..<T { row[j] = 0 }
        guard ranges.contains(where: { !$0.isEmpty }) else { return }
        var m = -Float.infinity
        for r in ranges { for j in r where row[j] > m { m = row[j] } }
        var sum: Float = 0
        for r in ranges {
            for j in r {
                row[j] = expf(row[j] - m)
                sum += row[j]
            }
        }
        let inv = 1 / sum
        for r in ranges { for j in r { row[j] *= inv } }
    }
}
