// The Gemma forward pass for training, with its backward (docs/gemma.md): the same computation as
// Gemma's GemmaModel (and HF's Gemma3ForCausalLM on a right-padded batch), saving what the
// backward needs, and a backward that walks the layers in reverse (as llm.c's gpt2_backward)
// adding into the LoRA gradients. Base weights are frozen.
//
// Shapes: B sequences × T positions = N rows; C hidden, H/Hkv query/KV heads, d head dim,
// F intermediate, V vocabulary, r LoRA rank.
import Foundation
import Gemma
import TensorKit

/// Frozen Gemma weights in float32 with a LoRA adapter to train.
public final class TrainableGemma: @unchecked Sendable {
    public let config: GemmaConfig
    public let adapter: LoRAAdapter
    let frozen: FrozenGemma
    let pool: ComputePool
    /// The head's [rows, V] chunk buffer, kept from one forward to the next: allocating (and
    /// zeroing, and faulting in) 128 MB again every step cost a tenth of the step.
    private var headScratch: FloatBuffer?
    private let scratchLock = NSLock()
    /// Rows of logits the head computes at a time: bounds its memory to one buffer of rows × V
    /// floats (128 MB for Gemma 3's 262144-token vocabulary; two on the plain path's backward)
    /// whatever the batch. More rows per chunk reuse each packed slice of the head for more rows.
    public var headChunkRows = 128

    /// Dequantizes `model`'s weights (its own LoRA factors, if any, are ignored: `adapter` is
    /// what is trained). `packedForward` (the default) runs the forward's products with the
    /// frozen quantized weights, layers and head, on the packed VNNI kernel where the CPU has it;
    /// false keeps float32 sgemm for every product, the reference path.
    public init(model: GemmaModel, adapter: LoRAAdapter, pool: ComputePool, packedForward: Bool = true) throws {
        try adapter.check(fits: model.config)
        config = model.config
        self.adapter = adapter
        self.pool = pool
        frozen = FrozenGemma(model: model, pool: pool, packedForward: packedForward)
        // The pool parallelises; OpenBLAS's own threads would compete with it for the cores.
        BLAS.singleThreaded()
    }

    /// Runs the batch and keeps every activation the backward needs.
    ///
    /// `keepLogits` also keeps all [B·T, V] logits for inspection (`ForwardPass.logits(row:)`).
    /// `dropoutSeed` turns on the adapter's LoRA dropout (training), its masks drawn from that
    /// seed; nil (evaluation) runs without dropout, as PEFT in eval mode.
    /// `lossRows` are the rows whose log-probs the loss reads (nil: every row with a target); the
    /// others get none, and the head, the costliest part of a step, skips them.
    /// `headGradient` fuses the head's backward into the forward: while each chunk's logits are at
    /// hand, d logp/d(normed hidden state) of its rows is computed and kept ([B·T, C]), so the
    /// backward neither recomputes the logits nor multiplies by the head again. False keeps the
    /// plain path (logits computed again in the backward), the reference the fused one is tested
    /// against.
    public func forward(_ batch: TokenBatch, keepLogits: Bool = false, dropoutSeed: UInt64? = nil,
                        lossRows: [Int]? = nil, headGradient: Bool = false) throws -> ForwardPass {
        let c = config
        for id in batch.paddedIDs where id < 0 || id >= c.vocabularySize {
            throw GemmaError.tokenOutOfRange(id: id, vocabularySize: c.vocabularySize)
        }
        let longest = batch.positionCount
        guard longest <= c.contextLength else {
            throw GemmaError.contextOverflow(needed: longest, limit: c.contextLength)
        }
        let B = batch.batchSize, T = batch.positions, N = B * T
        let C = c.hiddenSize, d = c.headDim, H = c.headCount, Hkv = c.kvHeadCount, F = c.intermediateSize
        let V = c.vocabularySize, qw = H * d, kw = Hkv * d, eps = c.rmsNormEps
        let global = RoPETable.tables(base: c.ropeBase, headDim: d, batch: batch)
        let local = RoPETable.tables(base: c.ropeLocalBase, headDim: d, batch: batch)
        let pass = ForwardPass(batch: batch, hidden: C, vocabulary: V, keepLogits: keepLogits)
        pass.dropoutSeed = dropoutSeed
        let branch = FloatBuffer(count: N * C)

        let x = FloatBuffer(count: N * C)
        Embedding.forward(out: x.pointer, ids: batch.paddedIDs, table: frozen.embedding.pointer, dim: C,
                          scale: Float(C).squareRoot())
        for l in 0..<c.layerCount {
            let w = frozen.layers[l], lora = adapter.layers[l]
            let sliding = c.slidingLayers[l] && c.slidingWindow != nil
            let a = LayerActivations(rows: N, config: c, batch: B, positions: T, ranks: lora.mapValues(\.rank))
            func linear(_ role: LayerTensor, _ input: FloatBuffer, _ output: FloatBuffer) {
                guard let f = w.linears[role] else { return }
                LoRALinear.forward(y: output.pointer, u: a.u[role]?.pointer, x: input.pointer, linear: f,
                                   lora: lora[role], dropout: dropout(pass, layer: l, role: role), rows: N, pool: pool)
            }

            // Attention block: x += post_norm(o(attention(rope(norm(q)), rope(norm(k)), v))).
            a.xIn.copy(from: x)
            RMSNorm.forward(out: a.xn1.pointer, rstd: a.rstd1.pointer, x: x.pointer, weight: w.attnNorm.pointer,
                            rows: N, dim: C, eps: eps)
            linear(.q, a.xn1, a.qPre)
            linear(.k, a.xn1, a.kPre)
            linear(.v, a.xn1, a.v)
            if let qn = w.qNorm, let kn = w.kNorm {
                RMSNorm.forward(out: a.q.pointer, rstd: a.qRstd.pointer, x: a.qPre.pointer, weight: qn.pointer,
                                rows: N * H, dim: d, eps: eps)
                RMSNorm.forward(out: a.k.pointer, rstd: a.kRstd.pointer, x: a.kPre.pointer, weight: kn.pointer,
                                rows: N * Hkv, dim: d, eps: eps)
            } else {
                a.q.copy(from: a.qPre)
                a.k.copy(from: a.kPre)
            }
            let tables = sliding ? local : global
            RoPE.forward(a.q.pointer, batch: B, positions: T, heads: H, rowStride: qw, tables: tables)
            RoPE.forward(a.k.pointer, batch: B, positions: T, heads: Hkv, rowStride: kw, tables: tables)
            let shape = attentionShape(batch: batch, sliding: sliding)
            Attention.forward(out: a.att.pointer, probs: a.probs.pointer, capped: a.capped?.pointer,
                              q: a.q.pointer, k: a.k.pointer, v: a.v.pointer, shape: shape, pool: pool)
            linear(.o, a.att, a.oPre)
            if let post = w.postAttnNorm {
                RMSNorm.forward(out: branch.pointer, rstd: a.oRstd.pointer, x: a.oPre.pointer, weight: post.pointer,
                                rows: N, dim: C, eps: eps)
                Residual.forward(x.pointer, adding: branch.pointer, count: N * C)
            } else {
                Residual.forward(x.pointer, adding: a.oPre.pointer, count: N * C)
            }

            // MLP block: x += post_norm(down(gelu_tanh(gate(norm(x))) ⊙ up(norm(x)))).
            a.xMid.copy(from: x)
            RMSNorm.forward(out: a.xn2.pointer, rstd: a.rstd2.pointer, x: x.pointer, weight: w.ffnNorm.pointer,
                            rows: N, dim: C, eps: eps)
            linear(.gate, a.xn2, a.gate)
            linear(.up, a.xn2, a.up)
            GatedGELU.forward(h: a.h.pointer, gate: a.gate.pointer, up: a.up.pointer, count: N * F, pool: pool)
            linear(.down, a.h, a.downPre)
            if let post = w.postFfnNorm {
                RMSNorm.forward(out: branch.pointer, rstd: a.downRstd.pointer, x: a.downPre.pointer,
                                weight: post.pointer, rows: N, dim: C, eps: eps)
                Residual.forward(x.pointer, adding: branch.pointer, count: N * C)
            } else {
                Residual.forward(x.pointer, adding: a.downPre.pointer, count: N * C)
            }
            pass.layers.append(a)
        }

        // Final norm, then the tied output head, soft-capping and log-probs of the targets. Only rows
        // with a target need logits (the head is most of a step's arithmetic: V·C per row, against
        // about a third of that for all layers together), so those rows are gathered and run a few
        // at a time, and the [N, V] logits never exist at once. The logit sums of TRL's logits/*
        // metrics come from the column sums of the head, which is exact without a final softcap;
        // with one (Gemma 2), or when the logits are kept, every row goes through the head.
        pass.xFinal.copy(from: x)
        RMSNorm.forward(out: pass.xnFinal.pointer, rstd: pass.rstdFinal.pointer, x: x.pointer,
                        weight: frozen.outputNorm.pointer, rows: N, dim: C, eps: eps)
        let everyRow = keepLogits || c.finalLogitSoftcap != nil
        var wanted = (0..<N).map { batch.targets[$0] >= 0 }
        if let lossRows {
            wanted = [Bool](repeating: false, count: N)
            for n in lossRows {
                guard n >= 0, n < N, batch.targets[n] >= 0 else {
                    throw TrainingError.invalidArgument("loss row \(n) is not a row with a target")
                }
                wanted[n] = true
            }
        }
        pass.headRows = wanted
        if headGradient { pass.headGradient = FloatBuffer(count: N * C) }
        let headRows = everyRow ? Array(0..<N) : (0..<N).filter { wanted[$0] }
        if !everyRow {
            for n in 0..<N {
                let xn = pass.xnFinal.pointer + n * C
                var sum = 0.0
                for j in 0..<C { sum += Double(xn[j]) * frozen.outputColumnSums[j] }
                pass.logitSums[n] = sum
            }
        }
        let chunkRows = max(1, min(headRows.count, headChunkRows))
        let chunk = takeHeadScratch(count: chunkRows * V), gathered = FloatBuffer(count: chunkRows * C)
        defer { returnHeadScratch(chunk) }
        var logp = [Float](repeating: 0, count: chunkRows), lse = [Float](repeating: 0, count: chunkRows)
        for part in headChunks(headRows.count) {
            let rows = Array(headRows[part])
            gather(pass.xnFinal, rows: rows, width: C, into: gathered)
            headLogits(gathered, count: rows.count, into: chunk)
            for (i, n) in rows.enumerated() {
                let row = chunk.pointer + i * V
                if everyRow {
                    var sum = 0.0
                    for j in 0..<V { sum += Double(row[j]) }
                    pass.logitSums[n] = sum
                }
                if let kept = pass.keptLogits { (kept.pointer + n * V).update(from: row, count: V) }
            }
            let targets = rows.map { wanted[$0] ? batch.targets[$0] : -1 }
            if let grad = pass.headGradient {
                // chunk becomes d logp/d logits, then gathered d logp/d xn = that · E.
                TokenLogProbs.forwardWithGradient(logp: &logp, lse: &lse, logits: chunk.pointer, targets: targets,
                                                  vocabulary: V, softcap: c.finalLogitSoftcap, pool: pool)
                headProduct(chunk.pointer, count: rows.count, into: gathered.pointer)
                for (i, n) in rows.enumerated() {
                    (grad.pointer + n * C).update(from: gathered.pointer + i * C, count: C)
                }
            } else {
                TokenLogProbs.forward(logp: &logp, lse: &lse, logits: chunk.pointer, targets: targets,
                                      vocabulary: V, pool: pool)
            }
            for (i, n) in rows.enumerated() {
                pass.logProbBuffer[n] = logp[i]
                pass.lse[n] = lse[i]
            }
        }
        return pass
    }

    /// Adds the gradient of a loss into the adapter's gradients, given dLoss/dlogp for every row
    /// of `pass.logProbs` ([B·T]; rows without a target are ignored).
    public func backward(_ pass: ForwardPass, dLogProbs: [Float]) throws {
        let c = config, batch = pass.batch
        let B = batch.batchSize, T = batch.positions, N = B * T
        guard dLogProbs.count == N else {
            throw TrainingError.invalidArgument("dLogProbs has \(dLogProbs.count) values for \(N) rows")
        }
        guard pass.layers.count == c.layerCount else {
            throw TrainingError.invalidArgument("the forward pass is incomplete")
        }
        let C = c.hiddenSize, d = c.headDim, H = c.headCount, Hkv = c.kvHeadCount, F = c.intermediateSize
        let V = c.vocabularySize, qw = H * d, kw = Hkv * d
        let global = RoPETable.tables(base: c.ropeBase, headDim: d, batch: batch)
        let local = RoPETable.tables(base: c.ropeLocalBase, headDim: d, batch: batch)

        let headRows = (0..<N).filter { dLogProbs[$0] != 0 && batch.targets[$0] >= 0 }
        if let n = headRows.first(where: { !pass.headRows[$0] }) {
            throw TrainingError.invalidArgument("row \(n) has a gradient but the forward computed no log-prob for it")
        }
        let dx = FloatBuffer(count: N * C), dxnFinal = FloatBuffer(count: N * C)
        if let grad = pass.headGradient {
            // Fused head: dxn[n] = dlogp[n] · (d logp[n]/d xn[n]), kept by the forward.
            for n in headRows {
                let g = dLogProbs[n], source = grad.pointer + n * C, target = dxnFinal.pointer + n * C
                for j in 0..<C { target[j] = g * source[j] }
            }
        } else {
            // Plain head, for the rows that carry a gradient, a few at a time with their logits
            // computed again: dlogits = dlogp·(onehot − softmax), through the softcap; dxn = dlogits · E.
            let chunkRows = max(1, min(headRows.count, headChunkRows))
            let logits = FloatBuffer(count: chunkRows * V), dlogits = FloatBuffer(count: chunkRows * V)
            let gathered = FloatBuffer(count: chunkRows * C), dGathered = FloatBuffer(count: chunkRows * C)
            for part in headChunks(headRows.count) {
                let rows = Array(headRows[part])
                gather(pass.xnFinal, rows: rows, width: C, into: gathered)
                headLogits(gathered, count: rows.count, into: logits)
                dlogits.zero()
                let g = rows.map { dLogProbs[$0] }, lse = rows.map { pass.lse[$0] }
                TokenLogProbs.backward(dlogits: dlogits.pointer, dlogp: g, logits: logits.pointer, lse: lse,
                                       targets: rows.map { batch.targets[$0] }, vocabulary: V, pool: pool)
                if let cap = c.finalLogitSoftcap {
                    Softcap.backward(dlogits.pointer, y: logits.pointer, count: rows.count * V, cap: cap)
                }
                headProduct(dlogits.pointer, count: rows.count, into: dGathered.pointer)
                for (i, n) in rows.enumerated() {
                    (dxnFinal.pointer + n * C).update(from: dGathered.pointer + i * C, count: C)
                }
            }
        }
        RMSNorm.backward(dx: dx.pointer, dout: dxnFinal.pointer, x: pass.xFinal.pointer,
                         weight: frozen.outputNorm.pointer, rstd: pass.rstdFinal.pointer, rows: N, dim: C)

        let dBranch = FloatBuffer(count: N * C), dPre = FloatBuffer(count: N * C), dxn = FloatBuffer(count: N * C)
        let dh = FloatBuffer(count: N * F), dgate = FloatBuffer(count: N * F), dup = FloatBuffer(count: N * F)
        let datt = FloatBuffer(count: N * qw), dq = FloatBuffer(count: N * qw), dqPre = FloatBuffer(count: N * qw)
        let dk = FloatBuffer(count: N * kw), dkPre = FloatBuffer(count: N * kw), dv = FloatBuffer(count: N * kw)

        for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
            let w = frozen.layers[l], lora = adapter.layers[l], a = pass.layers[l]
            let sliding = c.slidingLayers[l] && c.slidingWindow != nil
            func linearBackward(_ role: LayerTensor, dx: FloatBuffer, dy: FloatBuffer, x: FloatBuffer) {
                guard let f = w.linears[role] else { return }
                LoRALinear.backward(dx: dx.pointer, dy: dy.pointer, x: x.pointer, u: a.u[role]?.pointer,
                                    linear: f, lora: lora[role], dropout: dropout(pass, layer: l, role: role),
                                    rows: N, pool: pool)
            }
            /// The gradient of a block's branch output before its post-norm, from dx.
            func branchGradient(post: FloatBuffer?, pre: FloatBuffer, rstd: FloatBuffer) -> FloatBuffer {
                dBranch.zero()
                Residual.backward(dbranch: dBranch.pointer, dout: dx.pointer, count: N * C)
                guard let post else { return dBranch }
                dPre.zero()
                RMSNorm.backward(dx: dPre.pointer, dout: dBranch.pointer, x: pre.pointer, weight: post.pointer,
                                 rstd: rstd.pointer, rows: N, dim: C)
                return dPre
            }

            // MLP block.
            let dDown = branchGradient(post: w.postFfnNorm, pre: a.downPre, rstd: a.downRstd)
            dh.zero()
            linearBackward(.down, dx: dh, dy: dDown, x: a.h)
            dgate.zero()
            dup.zero()
            GatedGELU.backward(dgate: dgate.pointer, dup: dup.pointer, dh: dh.pointer, gate: a.gate.pointer,
                               up: a.up.pointer, count: N * F, pool: pool)
            dxn.zero()
            linearBackward(.gate, dx: dxn, dy: dgate, x: a.xn2)
            linearBackward(.up, dx: dxn, dy: dup, x: a.xn2)
            RMSNorm.backward(dx: dx.pointer, dout: dxn.pointer, x: a.xMid.pointer, weight: w.ffnNorm.pointer,
                             rstd: a.rstd2.pointer, rows: N, dim: C)

            // Attention block.
            let dO = branchGradient(post: w.postAttnNorm, pre: a.oPre, rstd: a.oRstd)
            datt.zero()
            linearBackward(.o, dx: datt, dy: dO, x: a.att)
            dq.zero()
            dk.zero()
            dv.zero()
            Attention.backward(dq: dq.pointer, dk: dk.pointer, dv: dv.pointer, dout: datt.pointer,
                               probs: a.probs.pointer, capped: a.capped?.pointer, q: a.q.pointer, k: a.k.pointer,
                               v: a.v.pointer, shape: attentionShape(batch: batch, sliding: sliding), pool: pool)
            let tables = sliding ? local : global
            RoPE.backward(dq.pointer, batch: B, positions: T, heads: H, rowStride: qw, tables: tables)
            RoPE.backward(dk.pointer, batch: B, positions: T, heads: Hkv, rowStride: kw, tables: tables)
            var dQ = dq, dK = dk
            if let qn = w.qNorm, let kn = w.kNorm {
                dqPre.zero()
                dkPre.zero()
                RMSNorm.backward(dx: dqPre.pointer, dout: dq.pointer, x: a.qPre.pointer, weight: qn.pointer,
                                 rstd: a.qRstd.pointer, rows: N * H, dim: d)
                RMSNorm.backward(dx: dkPre.pointer, dout: dk.pointer, x: a.kPre.pointer, weight: kn.pointer,
                                 rstd: a.kRstd.pointer, rows: N * Hkv, dim: d)
                dQ = dqPre
                dK = dkPre
            }
            dxn.zero()
            linearBackward(.q, dx: dxn, dy: dQ, x: a.xn1)
            linearBackward(.k, dx: dxn, dy: dK, x: a.xn1)
            linearBackward(.v, dx: dxn, dy: dv, x: a.xn1)
            RMSNorm.backward(dx: dx.pointer, dout: dxn.pointer, x: a.xIn.pointer, weight: w.attnNorm.pointer,
                             rstd: a.rstd1.pointer, rows: N, dim: C)
        }
        // The embedding is frozen: the gradient stops here.
    }

    /// The LoRA dropout of `role` in layer `layer` during `pass`: nil without a dropout seed or
    /// when the adapter's lora_dropout is 0. The backward gets the forward's masks this way.
    func dropout(_ pass: ForwardPass, layer: Int, role: LayerTensor) -> LoRADropout? {
        guard let seed = pass.dropoutSeed, adapter.layers[layer][role] != nil else { return nil }
        return LoRADropout(probability: Float(adapter.config.loraDropout), passSeed: seed, layer: layer, role: role)
    }

    /// A buffer of at least `count` floats (contents undefined): the kept one when it is free and
    /// large enough, else a new one. A concurrent forward gets its own.
    func takeHeadScratch(count: Int) -> FloatBuffer {
        scratchLock.lock()
        defer { scratchLock.unlock() }
        if let kept = headScratch, kept.count >= count {
            headScratch = nil
            return kept
        }
        return FloatBuffer(count: count)
    }

    /// Keeps `buffer` for the next forward (the larger of it and any buffer already kept).
    func returnHeadScratch(_ buffer: FloatBuffer) {
        scratchLock.lock()
        defer { scratchLock.unlock() }
        if (headScratch?.count ?? 0) < buffer.count { headScratch = buffer }
    }

    /// Row ranges of at most `headChunkRows` rows covering 0 ..< N.
    func headChunks(_ N: Int) -> [Range<Int>] {
        stride(from: 0, to: N, by: headChunkRows).map { $0..<min(N, $0 + headChunkRows) }
    }

    /// Slices of the vocabulary the head's products are split into across the pool's threads.
    var headSlices: Int { 4 * pool.threadCount }

    /// The vocabulary in `headSlices` ranges.
    var vocabularySlices: [Range<Int>] {
        let V = config.vocabularySize, size = (V + headSlices - 1) / headSlices
        return stride(from: 0, to: V, by: size).map { $0..<min(V, $0 + size) }
    }

    /// logits[count, V] = xs[count, C] · Eᵀ, soft-capped when the model caps them. The threads
    /// share the vocabulary, not the rows: each then packs only its slices of E (BLAS copies its
    /// operands into blocks first), where a split by rows has every thread pack all V·C values,
    /// which with a few dozen rows per thread costs as much as a third of the product.
    func headLogits(_ xs: FloatBuffer, count: Int, into out: FloatBuffer) {
        let C = config.hiddenSize, V = config.vocabularySize, cap = config.finalLogitSoftcap
        if let packed = frozen.outputPacked, count >= QuantizedMatrix.packedThreshold {
            packed.multiply(xs.pointer, count: count, into: out.pointer, precision: .fast, pool: pool, method: .packedInt8)
            if let cap {
                pool.parallelFor(count, chunk: 1) { range, _ in
                    for i in range { Softcap.forward(out.pointer + i * V, count: V, cap: cap) }
                }
            }
            return
        }
        let slices = vocabularySlices, E = frozen.output.pointer
        pool.parallelFor(slices.count, chunk: 1) { range, _ in
            for slice in slices[range] {
                BLAS.sgemm(transposeB: true, m: count, n: slice.count, k: C, a: xs.pointer, b: E + slice.lowerBound * C,
                           ldb: C, c: out.pointer + slice.lowerBound, ldc: V)
                guard let cap else { continue }
                for i in 0..<count { Softcap.forward(out.pointer + i * V + slice.lowerBound, count: slice.count, cap: cap) }
            }
        }
    }

    /// out[count, C] = d[count, V] · E, split over the vocabulary (the summed dimension) as
    /// `headLogits` splits it: each slice's product goes to its own partial sum, and the partial
    /// sums are added in slice order, so the result does not depend on which thread ran which.
    func headProduct(_ d: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        let C = config.hiddenSize, V = config.vocabularySize, slices = vocabularySlices, E = frozen.output.pointer
        let partials = FloatBuffer(count: slices.count * count * C)
        pool.parallelFor(slices.count, chunk: 1) { range, _ in
            for k in range {
                let slice = slices[k]
                BLAS.sgemm(m: count, n: C, k: slice.count, a: d + slice.lowerBound, lda: V, b: E + slice.lowerBound * C,
                           ldb: C, c: partials.pointer + k * count * C, ldc: C)
            }
        }
        let size = count * C
        pool.parallelFor(size) { range, _ in
            for i in range {
                var sum: Float = 0
                for k in 0..<slices.count { sum += partials[k * size + i] }
                out[i] = sum
            }
        }
    }

    /// Copies rows `rows` of a [·, width] buffer into the first rows of `out`.
    func gather(_ source: FloatBuffer, rows: [Int], width: Int, into out: FloatBuffer) {
        for (i, n) in rows.enumerated() {
            (out.pointer + i * width).update(from: source.pointer + n * width, count: width)
        }
    }

    func attentionShape(batch: TokenBatch, sliding: Bool) -> AttentionShape {
        AttentionShape(batch: batch.batchSize, positions: batch.positions, heads: config.headCount,
                       kvHeads: config.kvHeadCount, headDim: config.headDim, scale: config.attentionScale,
                       softcap: config.attentionSoftcap, window: sliding ? config.slidingWindow : nil,
                       lengths: batch.lengths, segments: batch.segments)
    }
}
