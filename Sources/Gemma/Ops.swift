import Foundation

// The elementwise and per-row operations of the Gemma forward pass (docs/gemma.md), on float32 rows.
// The matrix products are in TensorKit; these are the cheap parts between them.

enum Ops {
    /// y = x · rsqrt(mean(x²) + eps) · w, for `rows` rows of `dim` values, in place.
    /// `w` is the stored multiplier (1 + w of HF's convention already added at load).
    static func rmsNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, weight w: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let row = x + r * dim
            var ss: Float = 0
            for j in 0..<dim { ss += row[j] * row[j] }
            let scale = 1 / (ss / Float(dim) + eps).squareRoot()
            for j in 0..<dim { row[j] = row[j] * scale * w[j] }
        }
    }

    /// The same, written to `out`.
    static func rmsNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                        weight w: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let row = x + r * dim, o = out + r * dim
            var ss: Float = 0
            for j in 0..<dim { ss += row[j] * row[j] }
            let scale = 1 / (ss / Float(dim) + eps).squareRoot()
            for j in 0..<dim { o[j] = row[j] * scale * w[j] }
        }
    }

    /// gelu with the tanh approximation (gelu_pytorch_tanh).
    @inline(__always)
    static func geluTanh(_ x: Float) -> Float {
        let c: Float = 0.7978845608028654  // sqrt(2/pi)
        return 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
    }

    /// cos and sin of every rotary angle of the tokens at `positions` (one per row), [rows, d/2]
    /// each: computed once per forward call and shared by every layer with the same base.
    struct RopeTable {
        let cos: [Float]
        let sin: [Float]
        let half: Int

        init(positions: [Int], invFreq: [Float]) {
            half = invFreq.count
            let rows = positions.count
            var c = [Float](repeating: 0, count: rows * half), s = c
            for r in 0..<rows {
                let pos = Float(positions[r])
                for i in 0..<half {
                    let angle = pos * invFreq[i]
                    c[r * half + i] = cosf(angle)
                    s[r * half + i] = sinf(angle)
                }
            }
            cos = c
            sin = s
        }
    }

    /// NeoX-style rotary embedding (rotate_half): element i pairs with i + d/2.
    /// `x` holds `rows` tokens of `heads` heads of `dim` values, rows `rowStride` apart; token r
    /// takes row r of `table`.
    static func rope(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, dim: Int, rowStride: Int,
                     table: RopeTable) {
        let half = dim / 2
        for r in 0..<rows {
            let c = r * half
            for h in 0..<heads {
                let v = x + r * rowStride + h * dim
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * table.cos[c + i] - b * table.sin[c + i]
                    v[i + half] = b * table.cos[c + i] + a * table.sin[c + i]
                }
            }
        }
    }

    /// inv_freq_i = base^(-2i/d), computed in float32 as HF does.
    static func ropeInverseFrequencies(base: Float, dim: Int) -> [Float] {
        (0..<(dim / 2)).map { i in 1 / powf(base, Float(2 * i) / Float(dim)) }
    }

    /// Softmax of `n` values in place; returns nothing. Values of -inf get probability 0.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<n {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<n { x[i] *= inv }
    }

    /// cap · tanh(x / cap), Gemma 2's logit soft-capping.
    static func softcap(_ x: UnsafeMutablePointer<Float>, count n: Int, cap: Float) {
        let inv = 1 / cap
        for i in 0..<n { x[i] = cap * tanhf(x[i] * inv) }
    }
}
