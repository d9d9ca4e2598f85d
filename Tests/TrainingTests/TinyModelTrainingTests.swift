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
        let pass = try trainable.forward(batch.tokens)
        let result = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5, nll: scope)
        adapter.zeroGradients()
        try trainable.backward(pass, dLogProbs: result.dLogProbs)

        for m in adapter.modules where m.layer == 0 || m.layer == model.config.layerCount - 1 {
            for (name, values, grad) in [("A", m.parameters.a, m.parameters.gradA), ("B", m.parameters.b, m.parameters.gradB)] {
                let entries = Array(stride(from: 0, to: values.count, by: max(1, values.count / 4)))
                let x = values.array
                try GradientCheck.check("\(arch) \(scope) layer \(m.layer) \(m.role) \(name)", x: x, analytic: grad.array,
                                        eps: 1e-2, tolerance: 2e-2, entries: entries) { perturbed in
                    for j in 0..<perturbed.count { values[j] = perturbed[j] }
                    defer { for j in 0..<x.count { values[j] = x[j] } }
                    return try loss()
                }
            }
        }
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
