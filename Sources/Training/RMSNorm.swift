import Gemma

// RMSNorm as HF's Gemma computes it in float32 (docs/gemma.md, "RMSNorm"):
// y = x · rsqrt(mean(x²) + eps) · w, where w is the stored multiplier (1 + w of HF's convention, as
// llama.cpp's converter stores it). The forward is the engine's (`Ops.rmsNorm`); the backward sits
// here. The weight is frozen in LoRA training: the backward gives the input gradient only.

/// Shapes: N = rows, C = the normalised dimension (hidden size, or head dim for q/k norm).
enum RMSNorm {
    /// out[N, C] = x · rstd · w; saves rstd[N] = 1/sqrt(mean(x²) + eps) for the backward.
    static func forward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                        x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                        rows N: Int, dim C: Int, eps: Float) {
        Ops.rmsNorm(x, into: out, rows: N, dim: C, weight: w, eps: eps, rstd: rstd)
    }

    /// dx[N, C] += r·g − r³·x·(g·x)/C with g = dout ⊙ w (the derivative of x·r through r's
    /// dependence on every element of the row).
    static func backward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                         x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                         rstd: UnsafePointer<Float>, rows N: Int, dim C: Int) {
        for n in 0..<N {
            let xr = x + n * C, g = dout + n * C, d = dx + n * C
            let r = rstd[n]
            var dot = 0.0
            for j in 0..<C { dot += Double(g[j] * w[j]) * Double(xr[j]) }
            let k = r * r * r * Float(dot / Double(C))
            for j in 0..<C { d[j] += r * g[j] * w[j] - k * xr[j] }
        }
    }
}
