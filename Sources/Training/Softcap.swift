import Foundation
import Gemma

// Gemma 2's logit soft-capping (docs/gemma.md, "Soft-capping"): y = cap · tanh(x / cap), on
// attention scores (cap 50) and on the final logits (cap 30).

enum Softcap {
    /// In place over `count` values: the engine's (`Ops.softcap`).
    static func forward(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        Ops.softcap(x, count: count, cap: cap)
    }

    /// In place: dx = dy · (1 − (y/cap)²), from the capped outputs y the forward left behind.
    static func backward(_ d: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, count: Int, cap: Float) {
        let inv = 1 / cap
        for i in 0..<count {
            let t = y[i] * inv
            d[i] *= 1 - t * t
        }
    }
}
