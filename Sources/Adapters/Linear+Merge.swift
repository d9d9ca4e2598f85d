import Gemma
import TensorKit

// PEFT's `merge_and_unload` (docs/peft.md, "Merging"): W' = W + scaling · (B @ A), computed in float32.

extension Linear {
    /// The weight with its LoRA delta folded in, as float32 [out, in] row-major; the plain
    /// dequantized weight when no adapter is set on this layer.
    public func mergedWeight() -> [Float] {
        let rows = outFeatures, cols = inFeatures
        var w = [Float](repeating: 0, count: rows * cols)
        w.withUnsafeMutableBufferPointer { wp in
            weight.dequantize(into: wp.baseAddress!)
            guard let lora else { return }
            // W[out, in] += scale · B[out, r] · A[r, in]
            lora.b.withUnsafeBufferPointer { b in
                lora.a.withUnsafeBufferPointer { a in
                    BLAS.sgemm(m: rows, n: cols, k: lora.rank, alpha: lora.scale,
                               a: b.baseAddress!, b: a.baseAddress!, beta: 1, c: wp.baseAddress!)
                }
            }
        }
        return w
    }
}
