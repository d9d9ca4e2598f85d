import Adapters
import Gemma
import TensorKit

/// One layer's frozen weights in float32.
struct FrozenLayer: @unchecked Sendable {
    let attnNorm: FloatBuffer
    /// The seven linear layers by role.
    let linears: [LayerTensor: FrozenLinear]
    let qNorm: FloatBuffer?, kNorm: FloatBuffer?
    let postAttnNorm: FloatBuffer?
    let ffnNorm: FloatBuffer
    let postFfnNorm: FloatBuffer?
}

/// A Gemma model's weights dequantized to float32 once, for training.
///
/// The backward of every linear layer needs dX = dY · W, and quantized kernels only offer
/// Y = X · Wᵀ; a float32 copy also lets sgemm run both directions. For gemma-3-270m that is
/// about 100M layer weights plus the 168M-value tied embedding: about 1.1 GB.
final class FrozenGemma: @unchecked Sendable {
    let config: GemmaConfig
    let embedding: FloatBuffer  // [V, C]
    /// The output head [V, C]: the same buffer as `embedding` when tied (Gemma always is).
    let output: FloatBuffer
    let outputNorm: FloatBuffer
    let layers: [FrozenLayer]
    /// Σ_v output[v, c] for each of the C columns, in Double: Σ_v logits[n, v] = xn[n] · this,
    /// so the logits/* metrics need no logits at rows that have no target.
    let outputColumnSums: [Double]
    /// The quantized head with its packed int8 copy, for the forward's logits; nil: sgemm on
    /// `output`.
    let outputPacked: QuantizedMatrix?

    /// `packedForward`: give every quantized linear layer and the head a packed int8 copy
    /// (1.625 bytes per weight: 163 MB of layers and 273 MB of head for gemma-3-270m) so that
    /// the forward's products with them run on the VNNI kernel, as prefill does; the backward's
    /// products (dY · W) stay on the float copies. Nothing is packed on a CPU without AVX-512
    /// VNNI or for float weights (safetensors).
    init(model: GemmaModel, pool: ComputePool, packedForward: Bool = true) {
        config = model.config
        let w = model.weights
        func dense(_ m: QuantizedMatrix) -> FloatBuffer {
            let buffer = FloatBuffer(count: m.rows * m.cols)
            m.dequantize(into: buffer.pointer, pool: pool)
            return buffer
        }
        func packed(_ m: QuantizedMatrix) -> QuantizedMatrix? {
            guard packedForward, m.canPack else { return nil }
            let copy = m.packed(pool: pool)
            return copy.packed == nil ? nil : copy
        }
        func linear(_ l: Linear) -> FrozenLinear {
            FrozenLinear(weight: dense(l.weight), outFeatures: l.outFeatures, inFeatures: l.inFeatures,
                         packed: packed(l.weight))
        }
        embedding = dense(w.embedding)
        output = w.output.data == w.embedding.data ? embedding : dense(w.output)
        outputPacked = packed(w.output)
        outputNorm = FloatBuffer(w.outputNorm)
        outputColumnSums = FrozenGemma.columnSums(output, rows: w.output.rows, cols: w.output.cols, pool: pool)
        layers = w.layers.map { l in
            FrozenLayer(
                attnNorm: FloatBuffer(l.attnNorm),
                linears: Dictionary(uniqueKeysWithValues: LayerTensor.linearRoles.compactMap { role in
                    l[linear: role].map { (role, linear($0)) }
                }),
                qNorm: l.qNorm.map(FloatBuffer.init), kNorm: l.kNorm.map(FloatBuffer.init),
                postAttnNorm: l.postAttnNorm.map(FloatBuffer.init), ffnNorm: FloatBuffer(l.ffnNorm),
                postFfnNorm: l.postFfnNorm.map(FloatBuffer.init))
        }
    }

    /// Column sums of a [rows, cols] matrix, each thread summing a band of columns over all rows.
    private static func columnSums(_ m: FloatBuffer, rows: Int, cols: Int, pool: ComputePool) -> [Double] {
        var sums = [Double](repeating: 0, count: cols)
        sums.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            pool.parallelFor(cols, chunk: 16) { range, _ in
                for r in 0..<rows {
                    let row = m.pointer + r * cols
                    for c in range { base[c] += Double(row[c]) }
                }
            }
        }
        return sums
    }
}
