import TensorKit

// A frozen linear layer with an optional LoRA delta (PEFT's lora.Linear; docs/peft.md, "Forward"):
// y = x Wᵀ + s · (dropout(x) Aᵀ) Bᵀ. W stays frozen, so the backward gives dx, dA and dB only.
// Without dropout (p 0, evaluation, inference) dropout(x) is x itself.

/// A frozen weight W [out, in], dequantized to float32 once at load: the backward needs
/// dX = dY · W, which quantized dot-product kernels do not provide.
struct FrozenLinear: @unchecked Sendable {
    let weight: FloatBuffer
    let outFeatures: Int
    let inFeatures: Int
    /// The quantized W with its packed int8 copy (`QuantizedMatrix.packed(pool:)`), when the
    /// forward's x Wᵀ runs on the VNNI kernel; nil: sgemm on `weight`.
    var packed: QuantizedMatrix? = nil

    /// y[N, out] = x[N, in] · Wᵀ: the packed kernel (activations quantized to 16 bits per 32
    /// values, int32 sums; docs/orpo.md, "Frozen products") when there is a packed copy and enough
    /// rows for it, else sgemm on the float weights.
    func forward(y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows N: Int, pool: ComputePool) {
        if let packed, N >= QuantizedMatrix.packedThreshold {
            packed.multiply(x, count: N, into: y, precision: .fast, pool: pool, method: .packedInt8)
        } else {
            BLAS.sgemm(transposeB: true, m: N, n: outFeatures, k: inFeatures, a: x, b: weight.pointer, c: y, pool: pool)
        }
    }
}

/// Shapes: N = rows, in/out = features, r = LoRA rank.
enum LoRALinear {
    /// y[N, out] = x[N, in] · Wᵀ + s · u · Bᵀ with u[N, r] = xd · Aᵀ saved for the backward,
    /// xd = dropout(x) (x itself when `dropout` is nil).
    static func forward(y: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>?,
                        x: UnsafePointer<Float>, linear: FrozenLinear, lora: LoRAParameters?,
                        dropout: LoRADropout? = nil, rows N: Int, pool: ComputePool) {
        let inF = linear.inFeatures, outF = linear.outFeatures
        linear.forward(y: y, x: x, rows: N, pool: pool)
        guard let lora, let u else { return }
        let r = lora.rank
        if let dropout {
            let xd = FloatBuffer(count: N * inF)
            dropout.forward(out: xd.pointer, x: x, rows: N, features: inF, pool: pool)
            withExtendedLifetime(xd) {
                BLAS.sgemm(transposeB: true, m: N, n: r, k: inF, a: xd.pointer, b: lora.a.pointer, c: u)
            }
        } else {
            BLAS.sgemm(transposeB: true, m: N, n: r, k: inF, a: x, b: lora.a.pointer, c: u)
        }
        BLAS.sgemm(transposeB: true, m: N, n: outF, k: r, alpha: lora.scale, a: u, b: lora.b.pointer,
                   beta: 1, c: y, pool: pool)
    }

    /// dx[N, in] += dy · W + dropoutᵀ(du · A), dB[out, r] += s · dyᵀ · u, dA[r, in] += duᵀ · xd,
    /// where du[N, r] = s · dy · B and xd = dropout(x), its mask drawn again from `dropout`'s seed.
    static func backward(dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                         u: UnsafePointer<Float>?, linear: FrozenLinear, lora: LoRAParameters?,
                         dropout: LoRADropout? = nil, rows N: Int, pool: ComputePool) {
        let inF = linear.inFeatures, outF = linear.outFeatures
        BLAS.sgemm(m: N, n: inF, k: outF, a: dy, b: linear.weight.pointer, beta: 1, c: dx, pool: pool)
        guard let lora, let u else { return }
        let r = lora.rank, s = lora.scale
        let du = FloatBuffer(count: N * r)
        BLAS.sgemm(m: N, n: r, k: outF, alpha: s, a: dy, b: lora.b.pointer, c: du.pointer)
        BLAS.sgemm(transposeA: true, m: outF, n: r, k: N, alpha: s, a: dy, b: u, beta: 1,
                   c: lora.gradB.pointer, pool: pool)
        guard let dropout else {
            BLAS.sgemm(transposeA: true, m: r, n: inF, k: N, a: du.pointer, b: x, beta: 1, c: lora.gradA.pointer)
            BLAS.sgemm(m: N, n: inF, k: r, a: du.pointer, b: lora.a.pointer, beta: 1, c: dx, pool: pool)
            return
        }
        let scratch = FloatBuffer(count: N * inF)
        withExtendedLifetime(scratch) {
            dropout.forward(out: scratch.pointer, x: x, rows: N, features: inF, pool: pool)
            BLAS.sgemm(transposeA: true, m: r, n: inF, k: N, a: du.pointer, b: scratch.pointer, beta: 1,
                       c: lora.gradA.pointer)
            BLAS.sgemm(m: N, n: inF, k: r, a: du.pointer, b: lora.a.pointer, c: scratch.pointer, pool: pool)
            dropout.backward(dx: dx, dout: scratch.pointer, rows: N, features: inF, pool: pool)
        }
    }
}
