// The Gemma forward pass for Gemma 1, 2 and 3 (text), following HF transformers' modeling_gemma,
// modeling_gemma2 and modeling_gemma3 and llama.cpp's GGUF conventions (docs/gemma.md).
//
// Shapes (n = tokens in this call, T = keys attended, h = hidden, nh/nkv = query/KV heads,
// hd = head dim, ff = intermediate size, V = vocabulary):
//   x [n, h] -> per layer: q [n, nh*hd], k/v [n, nkv*hd] (written into the KV cache),
//   scores [n, T] per head, attention out [n, nh*hd] -> o [n, h]; MLP gate/up [n, ff] -> [n, h];
//   logits [rows, V].
import COpenBLAS
import Foundation
import TensorKit

public final class GemmaModel: @unchecked Sendable {
    public let config: GemmaConfig
    public private(set) var weights: GemmaWeights
    public let pool: ComputePool
    /// `.exact` keeps activations in float32 in every product (the reference path); `.fast`
    /// quantizes them inside quantized products: to 8 bits in the dot-product kernels (decoding,
    /// and prefills under 4 tokens), as llama.cpp does, and to 16 bits in the packed prefill kernel.
    public var precision: MatmulPrecision
    /// Where the weights came from (a path), for logs and records.
    public let source: String

    let invFreqGlobal: [Float]
    let invFreqLocal: [Float]
    /// sqrt(hidden) in float32, as llama.cpp applies it (HF rounds it to the weight dtype).
    let embedScale: Float
    /// Tokens per forward chunk: bounds the scratch memory of long prompts.
    public var chunkSize = 512

    public init(config: GemmaConfig, weights: GemmaWeights, source: String,
                pool: ComputePool, precision: MatmulPrecision = .fast) {
        self.config = config
        self.weights = weights
        self.source = source
        self.pool = pool
        self.precision = precision
        invFreqGlobal = Ops.ropeInverseFrequencies(base: config.ropeBase, dim: config.headDim)
        invFreqLocal = Ops.ropeInverseFrequencies(base: config.ropeLocalBase, dim: config.headDim)
        embedScale = Float(config.hiddenSize).squareRoot()
        // Attention and the LoRA products call sgemm from the pool's threads; OpenBLAS's own threads
        // would compete with them (with them, prefill ran at 982 tok/s instead of 1431).
        BLAS.singleThreaded()
        if precision == .fast { packLayerWeights() }
    }

    /// Gives every quantized linear layer its packed int8 copy (`QuantizedMatrix.packed(pool:)`), so
    /// that prefill with `.fast` runs on the VNNI kernel; nothing on a CPU without AVX-512 VNNI.
    /// 1.625 bytes per layer weight (163 MB for gemma-3-270m; the output head is not packed:
    /// prefill computes the last row's logits only, or a few of them).
    public func packLayerWeights() {
        for l in weights.layers.indices {
            for role in LayerTensor.linearRoles {
                guard let lin = weights.layers[l][linear: role], lin.weight.canPack, lin.weight.packed == nil else { continue }
                weights.layers[l][linear: role] = Linear(weight: lin.weight.packed(pool: pool), lora: lin.lora)
            }
        }
    }

    /// Replaces the LoRA factors of the linear layers (nil entries remove them).
    public func setLoRA(layer: Int, role: LayerTensor, _ lora: LoRAWeights?) {
        guard var lin = weights.layers[layer][linear: role] else { return }
        lin.lora = lora
        weights.layers[layer][linear: role] = lin
    }

    public enum LogitRows: Sendable { case none, last, all }

    /// Runs `tokens` at positions `cache.count ..< cache.count + tokens.count`, appends their keys
    /// and values to `cache`, and returns logits: of the last token ([V]), of every token
    /// ([n, V] row-major), or none.
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitRows = .last) throws -> [Float] {
        try forward(tokens, cache: cache, logits: logits, vocabularyRows: nil)
    }

    /// Runs `tokens` as `forward` does and returns the logits of the vocabulary entries `ids` only,
    /// at the last token: the output head multiplies those rows of its matrix instead of all V.
    /// Each value is the one the full head gives for that entry (the same kernel on the same row),
    /// so a softmax over these equals the full softmax renormalised over `ids`. Judges that only
    /// read "0" and "1" save the head's 262144-row product per prompt.
    public func forward(_ tokens: [Int], cache: KVCache, logitsOf ids: [Int]) throws -> [Float] {
        guard !ids.isEmpty else { throw GemmaError.invalidParameter(name: "logitsOf", message: "no vocabulary entries asked for") }
        try checkTokens(ids)
        return try forward(tokens, cache: cache, logits: .last, vocabularyRows: ids)
    }

    private func forward(_ tokens: [Int], cache: KVCache, logits: LogitRows, vocabularyRows: [Int]?) throws -> [Float] {
        guard !tokens.isEmpty else { throw GemmaError.emptyPrompt }
        try checkTokens(tokens)
        try check(cache)
        try cache.reserve(cache.count + tokens.count)
        var out: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + max(1, chunkSize))
            let isLast = end == tokens.count
            let rows: LogitRows = logits == .all ? .all : (isLast ? logits : .none)
            let segment = Segment(cache: cache, row: 0, count: end - start, position: cache.count)
            let chunk = forwardRows(Array(tokens[start..<end]), segments: [segment], scratch: cache.scratch,
                                    logits: rows, rowExact: false, vocabularyRows: isLast ? vocabularyRows : nil)
            out.append(contentsOf: chunk)
            start = end
        }
        return out
    }

    func checkTokens(_ tokens: [Int]) throws {
        for t in tokens where t < 0 || t >= config.vocabularySize {
            throw GemmaError.tokenOutOfRange(id: t, vocabularySize: config.vocabularySize)
        }
    }

    /// A cache made for another model's shape would be read out of bounds: refuse it.
    func check(_ cache: KVCache) throws {
        guard cache.layerCount == config.layerCount, cache.rowWidth == config.kvHeadCount * config.headDim else {
            throw GemmaError.invalidParameter(
                name: "cache", message: "made for \(cache.layerCount) layers of \(cache.rowWidth) values, the model has "
                    + "\(config.layerCount) of \(config.kvHeadCount * config.headDim)")
        }
    }

    /// Consecutive tokens of one sequence within a forward call: rows `row ..< row + count` of the
    /// call's activations, at positions `position ..< position + count` of `cache`.
    struct Segment {
        let cache: KVCache
        let row: Int
        let count: Int
        let position: Int
    }

    /// The forward pass over n rows made of one or more segments (one sequence's prompt chunk, or
    /// one new token of each of several sequences): the linear layers run once over all n rows,
    /// attention runs per segment against its own cache. `rowExact` makes every row's numbers
    /// those of a call with that row alone (dot-product kernels, LoRA row by row), so that batched
    /// decoding gives bit-for-bit the answers of decoding one sequence at a time.
    ///
    /// With `vocabularyRows` (and `.last`), only those entries of the last row's logits are computed
    /// and returned, in that order.
    func forwardRows(_ tokens: [Int], segments: [Segment], scratch s: ForwardScratch,
                     logits rows: LogitRows, rowExact: Bool, vocabularyRows: [Int]? = nil) -> [Float] {
        let c = config
        let n = tokens.count, h = c.hiddenSize, hd = c.headDim
        let nh = c.headCount, nkv = c.kvHeadCount, ff = c.intermediateSize
        let rw = nkv * hd, qw = nh * hd
        let method: MatmulMethod = rowExact ? .dotKernels : .automatic

        let x = s.buffer(0, count: n * h)
        let xn = s.buffer(1, count: n * h)
        let q = s.buffer(2, count: n * qw)
        let att = s.buffer(3, count: n * qw)
        let o = s.buffer(4, count: n * h)
        let gate = s.buffer(5, count: n * ff)
        let up = s.buffer(6, count: n * ff)
        let k = s.buffer(9, count: n * rw)
        let v = s.buffer(10, count: n * rw)

        for (r, t) in tokens.enumerated() {
            weights.embedding.dequantizeRow(t, into: x + r * h)
            for j in 0..<h { x[r * h + j] *= embedScale }
        }

        var positions: [Int] = []
        positions.reserveCapacity(n)
        for seg in segments { positions += seg.position..<(seg.position + seg.count) }
        let globalRope = Ops.RopeTable(positions: positions, invFreq: invFreqGlobal)
        let localRope = invFreqLocal == invFreqGlobal
            ? globalRope : Ops.RopeTable(positions: positions, invFreq: invFreqLocal)

        for l in 0..<c.layerCount {
            let w = weights.layers[l]
            let sliding = c.slidingLayers[l] && c.slidingWindow != nil

            // Attention block.
            w.attnNorm.withUnsafeBufferPointer {
                Ops.rmsNorm(x, into: xn, rows: n, dim: h, weight: $0.baseAddress!, eps: c.rmsNormEps)
            }
            apply(w.q, xn, n, q, scratch: s, method: method)
            apply(w.k, xn, n, k, scratch: s, method: method)
            apply(w.v, xn, n, v, scratch: s, method: method)
            if let qNorm = w.qNorm, let kNorm = w.kNorm {
                qNorm.withUnsafeBufferPointer {
                    Ops.rmsNorm(q, rows: n * nh, dim: hd, weight: $0.baseAddress!, eps: c.rmsNormEps)
                }
                kNorm.withUnsafeBufferPointer {
                    Ops.rmsNorm(k, rows: n * nkv, dim: hd, weight: $0.baseAddress!, eps: c.rmsNormEps)
                }
            }
            let rope = sliding ? localRope : globalRope
            Ops.rope(q, rows: n, heads: nh, dim: hd, rowStride: qw, table: rope)
            Ops.rope(k, rows: n, heads: nkv, dim: hd, rowStride: rw, table: rope)
            for seg in segments {
                (seg.cache.keys[l] + seg.position * rw).update(from: k + seg.row * rw, count: seg.count * rw)
                (seg.cache.values[l] + seg.position * rw).update(from: v + seg.row * rw, count: seg.count * rw)
            }

            attention(q: q, out: att, segments: segments, layer: l, sliding: sliding, scratch: s)

            apply(w.o, att, n, o, scratch: s, method: method)
            if let post = w.postAttnNorm {
                post.withUnsafeBufferPointer {
                    Ops.rmsNorm(o, rows: n, dim: h, weight: $0.baseAddress!, eps: c.rmsNormEps)
                }
            }
            for j in 0..<(n * h) { x[j] += o[j] }

            // MLP block: down(gelu_tanh(gate(x)) * up(x)).
            w.ffnNorm.withUnsafeBufferPointer {
                Ops.rmsNorm(x, into: xn, rows: n, dim: h, weight: $0.baseAddress!, eps: c.rmsNormEps)
            }
            apply(w.gate, xn, n, gate, scratch: s, method: method)
            apply(w.up, xn, n, up, scratch: s, method: method)
            // gelu is the costliest elementwise step of a long prefill (n·ff tanh calls): split it.
            pool.parallelFor(n * ff, chunk: 16_384) { range, _ in
                Ops.gatedGELU(gate: gate, up: up, into: gate, range: range)
            }
            apply(w.down, gate, n, o, scratch: s, method: method)
            if let post = w.postFfnNorm {
                post.withUnsafeBufferPointer {
                    Ops.rmsNorm(o, rows: n, dim: h, weight: $0.baseAddress!, eps: c.rmsNormEps)
                }
            }
            for j in 0..<(n * h) { x[j] += o[j] }
        }
        for seg in segments { seg.cache.count = seg.position + seg.count }

        let first: Int
        switch rows {
        case .none: return []
        case .last: first = n - 1
        case .all: first = 0
        }
        let m = n - first
        weights.outputNorm.withUnsafeBufferPointer {
            Ops.rmsNorm(x + first * h, into: xn, rows: m, dim: h, weight: $0.baseAddress!, eps: c.rmsNormEps)
        }
        if let ids = vocabularyRows, m == 1 {
            return selectedLogits(ids, hidden: xn, method: method)
        }
        let vocab = c.vocabularySize
        var logits = [Float](repeating: 0, count: m * vocab)
        logits.withUnsafeMutableBufferPointer { lp in
            weights.output.multiply(xn, count: m, into: lp.baseAddress!, precision: precision, pool: pool, method: method)
            if let cap = c.finalLogitSoftcap { Ops.softcap(lp.baseAddress!, count: m * vocab, cap: cap) }
        }
        return logits
    }

    /// The logits of vocabulary entries `ids` for one normalised hidden row: each entry's row of the
    /// output matrix, multiplied on its own with the kernel and precision of the full head.
    private func selectedLogits(_ ids: [Int], hidden: UnsafePointer<Float>, method: MatmulMethod) -> [Float] {
        let head = weights.output
        var out = [Float](repeating: 0, count: ids.count)
        out.withUnsafeMutableBufferPointer { y in
            for (k, id) in ids.enumerated() {
                // One row of a valid matrix is itself a valid matrix (same type, columns and alignment).
                let row = try! QuantizedMatrix(type: head.type, rows: 1, cols: head.cols, data: head.data + id * head.rowBytes)
                row.multiply(hidden, count: 1, into: y.baseAddress! + k, precision: precision, pool: pool, method: method)
            }
            if let cap = config.finalLogitSoftcap { Ops.softcap(y.baseAddress!, count: ids.count, cap: cap) }
        }
        return out
    }

    /// Scaled dot-product attention of each segment's queries over its own cached keys, per head;
    /// each KV head serves nh/nkv query heads. Causal, and on sliding layers limited to the last W
    /// keys. All (segment, head) pairs run in one parallel loop.
    private func attention(q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                           segments: [Segment], layer l: Int, sliding: Bool, scratch: ForwardScratch) {
        let c = config
        let hd = c.headDim, nh = c.headCount, nkv = c.kvHeadCount
        let rw = nkv * hd, qw = nh * hd
        let window = sliding ? c.slidingWindow! : Int.max
        // Per segment: the keys any of its queries can see, and where its scores go.
        var spans: [(kStart: Int, T: Int, offset: Int)] = []
        var total = 0
        for seg in segments {
            let kStart = sliding ? max(0, seg.position - window + 1) : 0
            let T = seg.position + seg.count - kStart
            spans.append((kStart, T, total))
            total += nh * seg.count * T
        }
        let scoresAll = scratch.buffer(7, count: total)
        let group = nh / nkv

        pool.parallelFor(segments.count * nh, chunk: 1) { items, _ in
            for item in items {
                let seg = segments[item / nh], span = spans[item / nh], head = item % nh
                let n = seg.count, p0 = seg.position, kStart = span.kStart, T = span.T
                let g = head / group
                let scores = scoresAll + span.offset + head * n * T
                let kp = seg.cache.keys[l] + kStart * rw + g * hd
                let vp = seg.cache.values[l] + kStart * rw + g * hd
                let qp = q + seg.row * qw + head * hd
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(T), Int32(hd),
                            c.attentionScale, qp, Int32(qw), kp, Int32(rw), 0, scores, Int32(T))
                for i in 0..<n {
                    let row = scores + i * T
                    let pos = p0 + i
                    // Valid keys: absolute positions lo...pos.
                    let lo = sliding ? max(kStart, pos - window + 1) : 0
                    let a = lo - kStart, b = pos - kStart + 1
                    if let cap = c.attentionSoftcap { Ops.softcap(row + a, count: b - a, cap: cap) }
                    for j in 0..<a { row[j] = 0 }
                    Ops.softmax(row + a, count: b - a)
                    for j in b..<T { row[j] = 0 }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(hd), Int32(T),
                            1, scores, Int32(T), vp, Int32(rw), 0, out + seg.row * qw + head * hd, Int32(qw))
            }
        }
    }

    /// y [n, out] = x [n, in] · Wᵀ, plus the LoRA delta scale · (x Aᵀ) Bᵀ when present. With
    /// `.dotKernels` (row-exact mode) the LoRA products also run one row at a time, since a BLAS
    /// may pick a different kernel, and so a different summation order, for a different row count.
    private func apply(_ lin: Linear, _ x: UnsafePointer<Float>, _ n: Int, _ y: UnsafeMutablePointer<Float>,
                       scratch: ForwardScratch, method: MatmulMethod) {
        lin.weight.multiply(x, count: n, into: y, precision: precision, pool: pool, method: method)
        guard let lora = lin.lora else { return }
        let r = lora.rank, inF = lin.inFeatures, outF = lin.outFeatures
        let t = scratch.buffer(8, count: n * r)
        let blocks = method == .dotKernels ? (0..<n).map { $0..<($0 + 1) } : [0..<n]
        for rows in blocks {
            let m = Int32(rows.count), x0 = x + rows.lowerBound * inF, t0 = t + rows.lowerBound * r
            lora.a.withUnsafeBufferPointer { a in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, Int32(r), Int32(inF),
                            1, x0, Int32(inF), a.baseAddress!, Int32(inF), 0, t0, Int32(r))
            }
            lora.b.withUnsafeBufferPointer { b in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, Int32(outF), Int32(r),
                            lora.scale, t0, Int32(r), b.baseAddress!, Int32(r), 1, y + rows.lowerBound * outF, Int32(outF))
            }
        }
    }
}
