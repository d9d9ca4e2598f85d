import Gemma

/// What one layer's forward saves for its backward (shapes as in TrainableGemma).
final class LayerActivations {
    let xIn, xn1, rstd1: FloatBuffer                  // [N, C], [N, C], [N]
    let qPre, qRstd, q: FloatBuffer                    // [N, H·d], [N·H], [N, H·d] (normed, rotated)
    let kPre, kRstd, k, v: FloatBuffer                 // [N, Hkv·d], [N·Hkv], [N, Hkv·d] ×2
    let probs: FloatBuffer                             // [B, H, T, T]
    let capped: FloatBuffer?                           // [B, H, T, T] with an attention softcap
    let att, oPre, oRstd: FloatBuffer                  // [N, H·d], [N, C], [N]
    let xMid, xn2, rstd2: FloatBuffer                  // [N, C], [N, C], [N]
    let gate, up, h: FloatBuffer                       // [N, F] each
    let downPre, downRstd: FloatBuffer                 // [N, C], [N]
    /// x·Aᵀ [N, r] of each adapted linear layer.
    let u: [LayerTensor: FloatBuffer]

    init(rows N: Int, config c: GemmaConfig, batch B: Int, positions T: Int, ranks: [LayerTensor: Int]) {
        let C = c.hiddenSize, qw = c.headCount * c.headDim, kw = c.kvHeadCount * c.headDim
        let F = c.intermediateSize, P = B * c.headCount * T * T
        xIn = FloatBuffer(count: N * C); xn1 = FloatBuffer(count: N * C); rstd1 = FloatBuffer(count: N)
        qPre = FloatBuffer(count: N * qw); qRstd = FloatBuffer(count: N * c.headCount); q = FloatBuffer(count: N * qw)
        kPre = FloatBuffer(count: N * kw); kRstd = FloatBuffer(count: N * c.kvHeadCount)
        k = FloatBuffer(count: N * kw); v = FloatBuffer(count: N * kw)
        probs = FloatBuffer(count: P)
        capped = c.attentionSoftcap == nil ? nil : FloatBuffer(count: P)
        att = FloatBuffer(count: N * qw); oPre = FloatBuffer(count: N * C); oRstd = FloatBuffer(count: N)
        xMid = FloatBuffer(count: N * C); xn2 = FloatBuffer(count: N * C); rstd2 = FloatBuffer(count: N)
        gate = FloatBuffer(count: N * F); up = FloatBuffer(count: N * F); h = FloatBuffer(count: N * F)
        downPre = FloatBuffer(count: N * C); downRstd = FloatBuffer(count: N)
        var u: [LayerTensor: FloatBuffer] = [:]
        for (role, r) in ranks { u[role] = FloatBuffer(count: N * r) }
        self.u = u
    }
}

/// The saved state of one forward pass over a batch: per-token log-probs of the targets, the
/// logits, and every activation TrainableGemma.backward needs.
public final class ForwardPass: @unchecked Sendable {
    public let batch: TokenBatch
    let vocabulary: Int
    var layers: [LayerActivations] = []
    let xFinal, xnFinal, rstdFinal: FloatBuffer
    /// Σ_v logits[n, v] per row (after any softcap), for TRL's logits/* metrics.
    var logitSums: [Double]
    /// [B·T, V] logits, kept only when the forward was asked to.
    let keptLogits: FloatBuffer?
    let lse: FloatBuffer
    let logProbBuffer: FloatBuffer
    /// Rows whose log-probs (and lse) the head computed: the rows with a target that the loss reads.
    var headRows: [Bool]
    /// d logp[n] / d xnFinal[n] [B·T, C] of those rows, when the forward fused the head's backward
    /// into its forward; the backward then scales these rows by dlogp instead of running the head.
    var headGradient: FloatBuffer?
    /// Seeds the LoRA dropout masks of a training pass (nil: no dropout).
    var dropoutSeed: UInt64?

    init(batch: TokenBatch, hidden C: Int, vocabulary V: Int, keepLogits: Bool) {
        self.batch = batch
        vocabulary = V
        let N = batch.batchSize * batch.positions
        xFinal = FloatBuffer(count: N * C)
        xnFinal = FloatBuffer(count: N * C)
        rstdFinal = FloatBuffer(count: N)
        logitSums = [Double](repeating: 0, count: N)
        keptLogits = keepLogits ? FloatBuffer(count: N * V) : nil
        lse = FloatBuffer(count: N)
        logProbBuffer = FloatBuffer(count: N)
        headRows = [Bool](repeating: false, count: N)
    }

    /// [B·T]: log p(target | prefix) at each row with a target, 0 elsewhere.
    public var logProbs: [Float] { logProbBuffer.array }

    /// Sum of the V logits of row n (b·T + t), in Double: the ingredient of TRL's logits/* metrics.
    public func logitSum(row n: Int) -> Double { logitSums[n] }

    /// The logits of row n when the forward kept them, else nil.
    public func logits(row n: Int) -> [Float]? {
        keptLogits.map { Array(UnsafeBufferPointer(start: $0.pointer + n * vocabulary, count: vocabulary)) }
    }
}
