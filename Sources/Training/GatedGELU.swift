import Foundation
import Gemma
import TensorKit

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

    /// h = gelu(gate) ⊙ up, split over the pool, 8 lanes at a time (`Ops.gatedGELU`).
    static func forward(h: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                        count: Int, pool: ComputePool? = nil) {
        guard let pool else { return Ops.gatedGELU(gate: gate, up: up, into: h, range: 0..<count) }
        pool.parallelFor(count, chunk: 16_384) { range, _ in Ops.gatedGELU(gate: gate, up: up, into: h, range: range) }
    }

    /// dgate += dh ⊙ up ⊙ gelu'(gate), dup += dh ⊙ gelu(gate), split over the pool, 8 lanes at a
    /// time with `Ops.tanh8` (the last few values one by one, with tanhf).
    static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                         dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                         count: Int, pool: ComputePool? = nil) {
        let body = { (range: Range<Int>) in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
                let x = load(gate), g = load(dh), u = load(up)
                let x2: SIMD8<Float> = x * x
                let t: SIMD8<Float> = Ops.tanh8(c * (x + k * x2 * x))
                let half: SIMD8<Float> = 0.5 * (1 + t)
                let value: SIMD8<Float> = x * half
                let inner: SIMD8<Float> = c * (1 + 3 * k * x2)
                let slope: SIMD8<Float> = half + 0.5 * x * (1 - t * t) * inner
                let dg = UnsafeMutableRawPointer(dgate + i), du = UnsafeMutableRawPointer(dup + i)
                dg.storeBytes(of: dg.loadUnaligned(as: SIMD8<Float>.self) + g * u * slope, as: SIMD8<Float>.self)
                du.storeBytes(of: du.loadUnaligned(as: SIMD8<Float>.self) + g * value, as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                dgate[i] += dh[i] * up[i] * geluDerivative(gate[i])
                dup[i] += dh[i] * gelu(gate[i])
                i += 1
            }
        }
        guard let pool else { return body(0..<count) }
        pool.parallelFor(count, chunk: 16_384) { range, _ in body(range) }
    }
}
