import Foundation
import Gemma

// Gemma's MLP activation (docs/gemma.md, "MLP and GELU"): h = gelu_tanh(gate) ⊙ up, with
// gelu_tanh(x) = 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x³))) (PyTorch's approximate="tanh").

/// Shapes: gate, up, h are [N, F] (F = intermediate size), flattened to `count` values.
enum GatedGELU {
    static let c: Float = 0.7978845608028654  // sqrt(2/pi)
    static let k: Float = 0.044715

    /// The engine's activation (`Ops.geluTanh`).
    @inline(__always)
    static func gelu(_ x: Float) -> Float { Ops.geluTanh(x) }

    /// d gelu_tanh / dx = 0.5(1 + t) + 0.5x(1 − t²)·c(1 + 3k x²), t = tanh(c(x + k x³)).
    @inline(__always)
    static func geluDerivative(_ x: Float) -> Float {
        let t = tanhf(c * (x + k * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)
    }

    /// h = gelu(gate) ⊙ up.
    static func forward(h: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                        count: Int) {
        for i in 0..<count { h[i] = gelu(gate[i]) * up[i] }
    }

    /// dgate += dh ⊙ up ⊙ gelu'(gate), dup += dh ⊙ gelu(gate).
    static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                         dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                         count: Int) {
        for i in 0..<count {
            dgate[i] += dh[i] * up[i] * geluDerivative(gate[i])
            dup[i] += dh[i] * gelu(gate[i])
        }
    }
}
