// Token embedding with Gemma's scale (docs/gemma.md, "Embedding"): h = E[id] · sqrt(hidden), the
// scale in float32 as llama.cpp and HF's float32 path apply it.

/// Shapes: N = rows (batch × positions), C = hidden size, V = vocabulary.
enum Embedding {
    /// out[N, C] = table[ids[n], :] · scale.
    static func forward(out: UnsafeMutablePointer<Float>, ids: [Int], table: UnsafePointer<Float>,
                        dim C: Int, scale: Float) {
        for (n, id) in ids.enumerated() {
            let row = table + id * C, o = out + n * C
            for j in 0..<C { o[j] = row[j] * scale }
        }
    }

    /// dTable[ids[n], :] += dout[n, :] · scale. Gemma's embedding stays frozen in LoRA training, so
    /// the model never calls this; it completes the pair and is checked by the gradient tests.
    static func backward(dTable: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, ids: [Int],
                         dim C: Int, scale: Float) {
        for (n, id) in ids.enumerated() {
            let d = dTable + id * C, g = dout + n * C
            for j in 0..<C { d[j] += g[j] * scale }
        }
    }
}
