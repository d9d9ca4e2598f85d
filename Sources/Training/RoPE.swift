import Foundation

// Rotary position embedding, NeoX style (docs/gemma.md, "RoPE"; HF's rotate_half): element i
// pairs with i + d/2 and the pair turns by the angle pos · invFreq[i], computed in float32 as HF
// does.

/// cos and sin of every (position, frequency) pair a batch needs: [T, d/2] each.
struct RoPETable: Sendable {
    let cos: [Float]
    let sin: [Float]
    let half: Int

    /// inv_freq_i = base^(-2i/d); angles for positions 0 ..< positions.
    init(base: Float, headDim d: Int, positions T: Int) {
        half = d / 2
        let invFreq = (0..<half).map { i in 1 / powf(base, Float(2 * i) / Float(d)) }
        var c = [Float](repeating: 0, count: T * half), s = c
        for t in 0..<T {
            for i in 0..<half {
                let angle = Float(t) * invFreq[i]
                c[t * half + i] = cosf(angle)
                s[t * half + i] = sinf(angle)
            }
        }
        cos = c
        sin = s
    }
}

/// Shapes: x is [B, T, H, d] with rows of `rowStride` floats (H heads of d values in each);
/// row b·T + t sits at position t.
enum RoPE {
    /// In place: x[i] ← x[i]·cos − x[i+d/2]·sin, x[i+d/2] ← x[i+d/2]·cos + x[i]·sin.
    static func forward(_ x: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                        rowStride: Int, table: RoPETable) {
        rotate(x, batch: B, positions: T, heads: H, rowStride: rowStride, table: table, direction: 1)
    }

    /// In place: the rotation is orthogonal, so the gradient turns back by the same angle.
    static func backward(_ dx: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                         rowStride: Int, table: RoPETable) {
        rotate(dx, batch: B, positions: T, heads: H, rowStride: rowStride, table: table, direction: -1)
    }

    private static func rotate(_ x: UnsafeMutablePointer<Float>, batch B: Int, positions T: Int, heads H: Int,
                               rowStride: Int, table: RoPETable, direction: Float) {
        let half = table.half
        for b in 0..<B {
            for t in 0..<T {
                let c = t * half
                for h in 0..<H {
                    let v = x + (b * T + t) * rowStride + h * 2 * half
                    for i in 0..<half {
                        let cs = table.cos[c + i], sn = direction * table.sin[c + i]
                        let a = v[i], bb = v[i + half]
                        v[i] = a * cs - bb * sn
                        v[i + half] = bb * cs + a * sn
                    }
                }
            }
        }
    }
}
