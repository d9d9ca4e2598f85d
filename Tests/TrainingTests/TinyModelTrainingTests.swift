import Adapters
import Foundation
import Gemma
import TensorKit
import TestSupport
import Testing
@testable import Training

/// The whole training path on tiny Gemma 2 and 3 checkpoints written by HF transformers (GQA,
/// sliding window of 4, soft-capping on Gemma 2, q/k norms and two RoPE bases on Gemma 3).
@Suite struct TinyModelTrainingTests {
    static let pool = try! ComputePool(threads: 2)

    static func model(_ arch: String) throws -> GemmaModel {
        let dir = SharedFixtures.path("tiny-\(arch)")
        return try ModelLoader.loadModel(path: dir, pool: pool, precision: .exact)
    }

    /// An adapter on every linear layer with non-zero B, so that every factor has a gradient.
    static func adapter(for config: GemmaConfig, seed: UInt64) throws -> LoRAAdapter {
        let adapter = try LoRAAdapter.initialized(
            config: AdapterConfig(r: 2, loraAlpha: 4, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                                       "gate_proj", "up_proj", "down_proj"]),
            model: config, seed: seed)
        for (i, m) in adapter.modules.enumerated() {
            let b = GradientCheck.random(m.parameters.b.count, seed: seed + UInt64(i), scale: 0.3)
            for j in 0..<b.count { m.parameters.b[j] = b[j] }
        }
        return adapter
    }

    /// Two pairs of different lengths: the batch is padded and the sequences cross the window.
    static func batch() throws -> PreferenceBatch {
        func pair(_ prompt: [Int], _ chosen: [Int], _ rejected: [Int]) -> TokenizedPair {
            TokenizedPair(promptIDs: [2] + prompt, chosenIDs: [2] + prompt + chosen + [1],
                          chosenLabels: [Int](repeating: -100, count: prompt.count + 1) + chosen + [1],
                          rejectedIDs: [2] + prompt + rejected + [1],
                          rejectedLabels: [Int](repeating: -100, count: prompt.count + 1) + rejected + [1])
        }
        return try PreferenceBatch(pairs: [pair([40, 41, 42], [50, 51, 52, 53, 54], [60, 61]),
                                           pair([70, 71], [80, 81], [90, 91, 92, 93, 94, 95, 96])], padID: 0)
    }

    @Test(arguments: ["gemma2", "gemma3"])
    func trainingForwardMatchesTransformers(_ arch: String) throws {
        struct Expected: Decodable { let ids: [Int]; let logits: [[Float]] }
        let model = try Self.model(arch)
        let dir = SharedFixtures.path("tiny-\(arch)")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        let empty = LoRAAdapter(config: AdapterConfig(r: 1, loraAlpha: 1, targetModules: ["q_proj"]),
                                layers: Array(repeating: [:], count: model.config.layerCount))
        let trainable = try TrainableGemma(model: model, adapter: empty, pool: Self.pool)
        // Padded to 15: padding after the sequence must not change its logits.
        let pass = try trainable.forward(try TokenBatch(sequences: [expected.ids], padID: 0, positions: 15), keepLogits: true)
        var worst: Float = 0
        for (t, row) in expected.logits.enumerated() {
            for (v, x) in try #require(pass.logits(row: t)).enumerated() { worst = max(worst, abs(x - row[v])) }
        }
        #expect(worst < 2e-4, "max |Δlogit| = \(worst)")
    }

    /// dLoss/dA and dLoss/dB of every adapted layer against finite differences of the ORPO loss
    /// through the whole model.
    @Test(arguments: ["gemma2", "gemma3"], NLLScope.allCases)
    func orpoGradientsThroughTheModelMatchFiniteDifferences(_ arch: String, _ scope: NLLScope) throws {
        let model = try Self.model(arch)
        let adapter = try Self.adapter(for: model.config, seed: 7)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        trainable.headChunkRows = 5  // the head's row chunks cross sequence boundaries
        let batch = try Self.batch()
        func loss() throws -> Double {
            try ORPOLoss.evaluate(try trainable.forward(batch.tokens), batch: batch, beta: 0.5, nll: scope).loss
        }
        // Both heads: the plain one (logits recomputed in the backward) and the fused one (the
        // head's gradient taken in the forward, only for the loss's rows).
        for fused in [false, true] {
            let pass = try trainable.forward(batch.tokens, lossRows: fused ? batch.lossRows(nll: scope) : nil,
                                             headGradient: fused)
            let result = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: scope)
            adapter.zeroGradients()
            try trainable.backward(pass, dLogProbs: result.dLogProbs)

            for m in adapter.modules where m.layer == 0 || m.layer == model.config.layerCount - 1 {
                for (name, values, grad) in [("A", m.parameters.a, m.parameters.gradA), ("B", m.parameters.b, m.parameters.gradB)] {
                    let entries = Array(stride(from: 0, to: values.count, by: max(1, values.count / 4)))
                    let x = values.array, analytic = grad.array
                    try GradientCheck.check("\(arch) \(scope) fused \(fused) layer \(m.layer) \(m.role) \(name)", x: x,
                                            analytic: analytic, eps: 1e-2, tolerance: 2e-2, entries: entries) { perturbed in
                        for j in 0..<perturbed.count { values[j] = perturbed[j] }
                        defer { for j in 0..<x.count { values[j] = x[j] } }
                        return try loss()
                    }
                }
            }
        }
    }

    /// Each gradient within a relative distance of 1e-4 of the reference's (and not all zero).
    static func expectSameGradients(_ reference: [[Float]], _ other: [[Float]]) {
        #expect(reference.count == other.count)
        for (p, f) in zip(reference, other) {
            let diff = zip(p, f).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = p.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(norm > 0 && diff / norm < 1e-4, "relative gradient difference \(diff / norm)")
        }
    }

    /// The fused head (gradient in the forward, loss rows only) gives the plain head's log-probs on
    /// the loss's rows, its loss and metrics, and its gradients, whatever the chunking.
    @Test(arguments: ["gemma2", "gemma3"], NLLScope.allCases)
    func fusedHeadMatchesThePlainHead(_ arch: String, _ scope: NLLScope) throws {
        let model = try Self.model(arch)
        let adapter = try Self.adapter(for: model.config, seed: 5)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let batch = try Self.batch()
        func run(fused: Bool) throws -> (logp: [Float], loss: Double, metrics: ORPOMetrics, gradients: [[Float]]) {
            trainable.headChunkRows = fused ? 3 : 64
            let pass = try trainable.forward(batch.tokens, dropoutSeed: 9,
                                             lossRows: fused ? batch.lossRows(nll: scope) : nil, headGradient: fused)
            let result = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: scope)
            adapter.zeroGradients()
            try trainable.backward(pass, dLogProbs: result.dLogProbs)
            let gradients = adapter.modules.flatMap { [$0.parameters.gradA.array, $0.parameters.gradB.array] }
            return (pass.logProbs, result.loss, result.metrics, gradients)
        }
        let plain = try run(fused: false), fused = try run(fused: true)
        for n in batch.lossRows(nll: scope) { #expect(abs(plain.logp[n] - fused.logp[n]) < 1e-6, "row \(n)") }
        #expect(abs(plain.loss - fused.loss) < 1e-6)
        for (name, value) in plain.metrics.named {
            let other = fused.metrics.named.first { $0.0 == name }!.1
            #expect(abs(value - other) < 1e-5 * max(1, abs(value)), "\(name): \(value) against \(other)")
        }
        Self.expectSameGradients(plain.gradients, fused.gradients)
    }

    typealias LayoutRun = (batch: PreferenceBatch, logp: [[Float]], loss: Double, metrics: ORPOMetrics, gradients: [[Float]])

    /// One forward, loss and backward of `pairs` in `layout`: the batch, each sequence's completion
    /// log-probs, the loss, the metrics and the adapter's gradients.
    static func run(_ pairs: [TokenizedPair], _ layout: PairLayout, packRows: Int, scope: NLLScope,
                    trainable: TrainableGemma, adapter: LoRAAdapter) throws -> LayoutRun {
        let batch = try PreferenceBatch(pairs: pairs, padID: 0, layout: layout, packRows: packRows)
        #expect(batch.layout == layout)
        trainable.headChunkRows = 4
        let pass = try trainable.forward(batch.tokens, lossRows: batch.lossRows(nll: scope), headGradient: true)
        let result = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: scope)
        adapter.zeroGradients()
        try trainable.backward(pass, dLogProbs: result.dLogProbs)
        let logp = (0..<(2 * pairs.count)).map { s in batch.completionRows(sequence: s).map { pass.logProbs[$0] } }
        return (batch, logp, result.loss, result.metrics, adapter.modules.flatMap { [$0.parameters.gradA.array, $0.parameters.gradB.array] })
    }

    /// Another layout's run computes the separate layout's: the same tokens, log-probs, loss,
    /// metrics (but TRL's logits/*, which average over padding) and gradients.
    static func expectSameRun(_ separate: LayoutRun, _ other: LayoutRun) {
        #expect(other.batch.pairTokens == separate.batch.pairTokens)
        for (a, b) in zip(separate.logp, other.logp) {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { #expect(abs(x - y) < 2e-5, "\(a) against \(b)") }
        }
        #expect(abs(separate.loss - other.loss) < 1e-5 * max(1, abs(separate.loss)))
        for (name, value) in separate.metrics.named where !name.hasPrefix("logits/") {
            let theirs = other.metrics.named.first { $0.0 == name }!.1
            #expect(abs(value - theirs) < 1e-5 * max(1, abs(value)), "\(name): \(value) against \(theirs)")
        }
        expectSameGradients(separate.gradients, other.gradients)
    }

    /// The shared layout (each pair's prompt run once, the rejected response a branch of it, pairs
    /// packed into one sequence or padded ones of a few rows) gives the separate layout's log-probs,
    /// loss, metrics (but TRL's logits/*, which average over padding) and gradients: across the
    /// sliding window of 4, with soft-capping (Gemma 2), for responses that begin alike (their
    /// common tokens are shared rows too), and with fewer rows.
    @Test(arguments: ["gemma2", "gemma3"], NLLScope.allCases)
    func sharedPromptLayoutMatchesSeparateSequences(_ arch: String, _ scope: NLLScope) throws {
        let model = try Self.model(arch)
        let adapter = try Self.adapter(for: model.config, seed: 11)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        func pair(_ prompt: [Int], _ chosen: [Int], _ rejected: [Int]) -> TokenizedPair {
            TokenizedPair(promptIDs: [2] + prompt, chosenIDs: [2] + prompt + chosen + [1],
                          chosenLabels: [Int](repeating: -100, count: prompt.count + 1) + chosen + [1],
                          rejectedIDs: [2] + prompt + rejected + [1],
                          rejectedLabels: [Int](repeating: -100, count: prompt.count + 1) + rejected + [1])
        }
        let pairs = [pair([40, 41, 42, 43, 44, 45], [50, 51, 52, 53, 54], [60, 61]),
                     pair([70, 71], [80, 81], [90, 91, 92, 93, 94, 95, 96]),
                     pair([30, 31, 32], [33, 34, 35, 36], [33, 34, 37])]
        func run(_ layout: PairLayout, packRows: Int = PreferenceBatch.defaultPackRows) throws -> LayoutRun {
            try Self.run(pairs, layout, packRows: packRows, scope: scope, trainable: trainable, adapter: adapter)
        }
        let separate = try run(.separate)
        // All three pairs packed in one sequence (17, 15 and 12 rows); then at most 17 rows a
        // sequence: one pair each, padded.
        let packed = try run(.shared), split = try run(.shared, packRows: 17)
        let rows = { (b: PreferenceBatch) in b.tokens.batchSize * b.tokens.positions }
        #expect(packed.batch.tokens.batchSize == 1 && split.batch.tokens.batchSize == 3)
        #expect(rows(packed.batch) < rows(separate.batch) * 2 / 3, "\(rows(packed.batch)) rows against \(rows(separate.batch))")
        for shared in [packed, split] { Self.expectSameRun(separate, shared) }
        // A pair whose sequences share only BOS has no prompt row to share: the batch is laid out
        // separately.
        let bare = TokenizedPair(promptIDs: [2], chosenIDs: [2, 5, 1], chosenLabels: [-100, 5, 1],
                                 rejectedIDs: [2, 6, 1], rejectedLabels: [-100, 6, 1])
        #expect(try PreferenceBatch(pairs: pairs + [bare], padID: 0, layout: .shared).layout == .separate)
        // Nor does a batch with a pair longer than a packed sequence.
        #expect(try PreferenceBatch(pairs: pairs, padID: 0, layout: .shared, packRows: 16).layout == .separate)
    }

    /// The prefix layout (the tokens every pair begins with run once per packed sequence as a stem,
    /// then each pair as in the shared layout) gives the separate layout's log-probs, loss,
    /// metrics but logits/* and gradients: with the sliding window of 4 reaching back into the
    /// stem, soft-capping (Gemma 2), pairs whose responses begin alike, a pair whose prompt is the
    /// common part plus one token, and several packed sequences, each with its own copy of the stem.
    @Test(arguments: ["gemma2", "gemma3"], NLLScope.allCases)
    func prefixLayoutMatchesSeparateSequences(_ arch: String, _ scope: NLLScope) throws {
        let model = try Self.model(arch)
        let adapter = try Self.adapter(for: model.config, seed: 13)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let common = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]
        func pair(_ prompt: [Int], _ chosen: [Int], _ rejected: [Int]) -> TokenizedPair {
            let p = [2] + common + prompt
            return TokenizedPair(promptIDs: p, chosenIDs: p + chosen + [1],
                                 chosenLabels: [Int](repeating: -100, count: p.count) + chosen + [1],
                                 rejectedIDs: p + rejected + [1],
                                 rejectedLabels: [Int](repeating: -100, count: p.count) + rejected + [1])
        }
        let pairs = [pair([40, 41, 42, 43, 44, 45], [50, 51, 52, 53, 54], [60, 61]),
                     pair([70], [80, 81], [90, 91, 92, 93, 94, 95, 96]),
                     pair([30, 31, 32], [33, 34, 35, 36], [33, 34, 37]),
                     pair([40, 41, 46], [55], [56])]
        func run(_ layout: PairLayout, packRows: Int = PreferenceBatch.defaultPackRows) throws -> LayoutRun {
            try Self.run(pairs, layout, packRows: packRows, scope: scope, trainable: trainable, adapter: adapter)
        }
        let separate = try run(.separate), shared = try run(.shared)
        // The stem is BOS and the ten common tokens but the last (10 rows); the pairs' own parts
        // are 17, 14, 12 and 9 rows: one sequence, then at most 30 rows a sequence (three).
        let packed = try run(.prefix), split = try run(.prefix, packRows: 30)
        let rows = { (b: PreferenceBatch) in b.tokens.sequences.reduce(0) { $0 + $1.count } }
        #expect(packed.batch.tokens.batchSize == 1 && split.batch.tokens.batchSize == 3)
        #expect(rows(packed.batch) == 10 + 17 + 14 + 12 + 9, "\(rows(packed.batch)) rows")
        #expect(rows(packed.batch) < rows(shared.batch) - 2 * 10, "\(rows(packed.batch)) rows against \(rows(shared.batch))")
        for stemmed in [packed, split] { Self.expectSameRun(separate, stemmed) }
        // Pairs that begin with fewer than eight tokens alike, or a single pair, take the shared layout.
        let short = TokenizedPair(promptIDs: [2, 20, 21, 3], chosenIDs: [2, 20, 21, 3, 5, 1], chosenLabels: [-100, -100, -100, -100, 5, 1],
                                  rejectedIDs: [2, 20, 21, 3, 6, 1], rejectedLabels: [-100, -100, -100, -100, 6, 1])
        #expect(try PreferenceBatch(pairs: pairs + [short], padID: 0, layout: .prefix).layout == .shared)
        #expect(try PreferenceBatch(pairs: [pairs[0]], padID: 0, layout: .prefix).layout == .shared)
    }

    /// A segment may continue only the stem right before it, and a stem has no branch.
    @Test func stemSegmentsAreChecked() throws {
        let ids = Array(10..<30)
        typealias S = TokenBatch.Segment
        _ = try TokenBatch(sequences: [ids], padID: 0, segments: [[S(start: 0, end: 5, isStem: true),
                                                                   S(start: 5, end: 9, shared: 1, branch: 7, stem: 0..<5),
                                                                   S(start: 9, end: 12, stem: 0..<5)]])
        for bad in [[S(start: 0, end: 5), S(start: 5, end: 9, stem: 0..<5)],
                    [S(start: 0, end: 5, isStem: true), S(start: 6, end: 9, stem: 0..<5)],
                    [S(start: 0, end: 5, isStem: true), S(start: 5, end: 8), S(start: 8, end: 11, stem: 0..<5)],
                    [S(start: 0, end: 5, shared: 1, branch: 3, isStem: true)],
                    [S(start: 0, end: 5, isStem: true), S(start: 5, end: 9, stem: 0..<5, isStem: true)]] {
            #expect(throws: TrainingError.self) { try TokenBatch(sequences: [ids], padID: 0, segments: [bad]) }
        }
    }

    /// The loss rows: every row whose log-prob ORPO reads, and no rejected prompt row; a gradient
    /// on a row the forward skipped is refused.
    @Test func lossRowsAreTheRowsTheLossReads() throws {
        let model = try Self.model("gemma3")
        let adapter = try Self.adapter(for: model.config, seed: 3)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let batch = try Self.batch()
        let T = batch.tokens.positions
        let rows = batch.lossRows(nll: .sequence)
        // Chosen sequences: every target (10 and 6 tokens: 9 and 5 targets); rejected: completions only.
        #expect(rows.filter { $0 < 2 * T }.count == 9 + 5)
        #expect(rows.filter { $0 >= 2 * T } == [2 * T + 3, 2 * T + 4, 2 * T + 5, 3 * T + 2, 3 * T + 3, 3 * T + 4, 3 * T + 5,
                                                  3 * T + 6, 3 * T + 7, 3 * T + 8, 3 * T + 9])
        let pass = try trainable.forward(batch.tokens, lossRows: rows, headGradient: true)
        #expect(pass.logProbs[2 * T + 1] == 0, "a rejected prompt row gets no log-prob")
        var d = [Float](repeating: 0, count: 4 * T)
        d[2 * T + 1] = 1
        #expect(throws: TrainingError.self) { try trainable.backward(pass, dLogProbs: d) }
        #expect(throws: TrainingError.self) { try trainable.forward(batch.tokens, lossRows: [T - 1]) }
    }

    /// The NLL term of each scope, recomputed from the pass's log-probs and the pairs' own labels:
    /// every target of the chosen sequences, or only those the labels keep.
    @Test func nllScopesCoverTheTargetsTheySay() throws {
        let model = try Self.model("gemma3")
        let trainable = try TrainableGemma(model: model, adapter: try Self.adapter(for: model.config, seed: 3), pool: Self.pool)
        let batch = try Self.batch()
        let pass = try trainable.forward(batch.tokens)
        let T = batch.tokens.positions
        var all: [Double] = [], completion: [Double] = []
        for (s, pair) in batch.pairs.enumerated() {
            for t in 0..<(pair.chosenIDs.count - 1) {
                let logp = Double(pass.logProbs[s * T + t])
                all.append(-logp)
                if pair.chosenLabels[t + 1] != -100 { completion.append(-logp) }
            }
        }
        let sequence = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: .sequence)
        let completionOnly = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: .completion)
        #expect(completion.count == 5 + 1 + 2 + 1)
        #expect(abs(sequence.metrics.nllLoss - all.reduce(0, +) / Double(all.count)) < 1e-9)
        #expect(abs(completionOnly.metrics.nllLoss - completion.reduce(0, +) / Double(completion.count)) < 1e-9)
        // The odds-ratio term does not depend on the scope.
        #expect(abs((sequence.loss - sequence.metrics.nllLoss) - (completionOnly.loss - completionOnly.metrics.nllLoss)) < 1e-12)
        // No gradient reaches a prompt target under .completion.
        for (s, pair) in batch.pairs.enumerated() {
            for t in 0..<(pair.chosenIDs.count - 1) where pair.chosenLabels[t + 1] == -100 {
                #expect(completionOnly.dLogProbs[s * T + t] == 0)
            }
        }
    }

    /// The adapter applied unmerged to the inference model gives the logits of the training forward.
    @Test func appliedAdapterMatchesTheTrainingForward() throws {
        let model = try Self.model("gemma3")
        let adapter = try Self.adapter(for: model.config, seed: 11)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let ids = [2, 40, 41, 42, 50, 51, 52, 53, 54, 1]
        let pass = try trainable.forward(try TokenBatch(sequences: [ids], padID: 0), keepLogits: true)
        AdapterLoader.apply(adapter.peftAdapter, to: model)
        let logits = try model.forward(ids, cache: KVCache(config: model.config), logits: .all)
        let V = model.config.vocabularySize
        var worst: Float = 0
        for t in 0..<ids.count {
            for (v, x) in try #require(pass.logits(row: t)).enumerated() { worst = max(worst, abs(x - logits[t * V + v])) }
        }
        #expect(worst < 1e-4, "max |Δlogit| = \(worst)")
    }
}
