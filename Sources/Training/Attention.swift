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
    /// Each sequence's second branch, if any (`TokenBatch.Branch`).
    var branches: [TokenBatch.Branch?] = []

    /// The visible keys of query i of sequence b: one range, or with a branch two (the shared
    /// prefix's rows and the branch's own; the second is empty without a branch).
    func visibleKeys(query i: Int, sequence b: Int) -> (Range<Int>, Range<Int>) {
        let hi = min(i + 1, lengths[b])
        guard b < branches.count, let branch = branches[b], i >= branch.start else {
            let lo = window.map { max(0, i - $0 + 1) } ?? 0
            return (lo..<max(lo, hi), 0..<0)
        }
        // Positions: row j < shared sits at j, row j >= start at shared + j - start.
        let position = branch.shared + i - branch.start
        let lo = min(branch.shared, window.map { max(0, position - $0 + 1) } ?? 0)
        let own = window.map { max(branch.start, i - $0 + 1) } ?? branch.start
        return (lo..<min(branch.shared, lengths[b]), own..<max(own, hi))
    }
}

enum Attention {
    /// out = softmax(mask(softcap(scale · q kᵀ))) v per sequence and head. Saves probs and, with a
    /// softcap, the capped scores (`capped`, same shape as probs) for the backward.
    static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                        capped: UnsafeMutablePointer<Float>?, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                        v: UnsafePointer<Float>, shape s: AttentionShape, pool: ComputePool) {
        let T = s.positions, d = s.headDim, qw = s.heads * d, kw = s.kvHeads * d
        let group = s.heads / s.kvHeads
        pool.parallelFor(s.batch * s.heads, chunk: 1) { range, _ in
            for job in range {
                let b = job / s.heads, head = job % s.heads, g = head / group
                let P = probs + job * T * T
                let qh = q + b * T * qw + head * d
                let kh = k + b * T * kw + g * d, vh = v + b * T * kw + g * d
                BLAS.sgemm(transposeB: true, m: T, n: T, k: d, alpha: s.scale, a: qh, lda: qw, b: kh, ldb: kw,
                           c: P, ldc: T)
                for i in 0..<T {
                    let row = P + i * T
                    let (keys, own) = s.visibleKeys(query: i, sequence: b)
                    if let cap = s.softcap, let capped {
                        Softcap.forward(row + keys.lowerBound, count: keys.count, cap: cap)
                        Softcap.forward(row + own.lowerBound, count: own.count, cap: cap)
                        (capped + job * T * T + i * T).update(from: row, count: T)
                    }
                    softmax(row, keys: keys, own, count: T)
                }
                BLAS.sgemm(m: T, n: d, k: T, a: P, lda: T, b: vh, ldb: kw, c: out + b * T * qw + head * d, ldc: qw)
            }
        }
    }

    /// dq += scale · dS k, dk += scale · dSᵀ q, dv += Pᵀ dout, with dP = dout vᵀ and
    /// dS = P ⊙ (dP − Σ_j P_j dP_j) (through the softcap's 1 − (y/cap)² when there is one).
    /// Sequences run in parallel; the heads of one sequence run in turn, since heads sharing a KV
    /// head add into the same dk and dv rows.
    static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                         probs: UnsafePointer<Float>, capped: UnsafePointer<Float>?,
                         q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         shape s: AttentionShape, pool: ComputePool) {
        let T = s.positions, d = s.headDim, qw = s.heads * d, kw = s.kvHeads * d
        let group = s.heads / s.kvHeads
        pool.parallelFor(s.batch, chunk: 1) { range, _ in
            let dS = FloatBuffer(count: T * T)
            for b in range {
                for head in 0..<s.heads {
                    let job = b * s.heads + head, g = head / group
                    let P = probs + job * T * T
                    let qh = q + b * T * qw + head * d, dqh = dq + b * T * qw + head * d
                    let kh = k + b * T * kw + g * d, dkh = dk + b * T * kw + g * d
                    let vh = v + b * T * kw + g * d, dvh = dv + b * T * kw + g * d
                    let doh = dout + b * T * qw + head * d
                    BLAS.sgemm(transposeB: true, m: T, n: T, k: d, a: doh, lda: qw, b: vh, ldb: kw,
                               c: dS.pointer, ldc: T)
                    BLAS.sgemm(transposeA: true, m: T, n: d, k: T, a: P, lda: T, b: doh, ldb: qw,
                               beta: 1, c: dvh, ldc: kw)
                    for i in 0..<T {
                        let p = P + i * T, ds = dS.pointer + i * T
                        var dot: Float = 0
                        for j in 0..<T { dot += p[j] * ds[j] }
                        for j in 0..<T { ds[j] = p[j] * (ds[j] - dot) }
                        if let cap = s.softcap, let capped {
                            Softcap.backward(ds, y: capped + job * T * T + i * T, count: T, cap: cap)
                        }
                    }
                    BLAS.sgemm(m: T, n: d, k: T, alpha: s.scale, a: dS.pointer, lda: T, b: kh, ldb: kw,
                               beta: 1, c: dqh, ldc: qw)
                    BLAS.sgemm(transposeA: true, m: T, n: d, k: T, alpha: s.scale, a: dS.pointer, lda: T,
                               b: qh, ldb: qw, beta: 1, c: dkh, ldc: kw)
                }
            }
        }
    }

    /// Softmax over the visible keys of one row (`keys`, then `own`, which lies after it or is
    /// empty); every other entry becomes 0. A row without visible keys (only padding queries far
    /// past a sliding window) stays all zero.
    private static func softmax(_ row: UnsafeMutablePointer<Float>, keys: Range<Int>, _ own: Range<Int>, count T: Int) {
        let ranges = own.isEmpty ? [keys] : [keys, own]
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
