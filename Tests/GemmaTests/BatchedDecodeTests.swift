import Foundation
import Gemma
import TensorKit
import Testing
import TestSupport

/// `forward(batch:caches:)` steps several sequences of different lengths by one token each; every
/// row must equal decoding that sequence alone, also past the sliding window (4 keys on the tiny
/// Gemma 2 and 3), with a LoRA adapter, and on the default model's quantized (fast) path.
@Suite struct BatchedDecodeTests {
    /// Prefixes of `ids` of these lengths are prefilled, then `steps` tokens decoded: batched in
    /// one set of caches, one at a time in another. Returns the largest |Δlogit| of any step.
    static func largestDifference(_ model: GemmaModel, ids: [Int], lengths: [Int], steps: Int) throws -> Float {
        let batched = lengths.map { _ in KVCache(config: model.config, initialCapacity: 2) }
        let single = lengths.map { _ in KVCache(config: model.config, initialCapacity: 2) }
        var next: [Int] = []
        for (i, n) in lengths.enumerated() {
            _ = try model.forward(Array(ids.prefix(n)), cache: batched[i])
            next.append(Sampler.argmax(try model.forward(Array(ids.prefix(n)), cache: single[i])))
        }
        var worst: Float = 0
        for _ in 0..<steps {
            let rows = try model.forward(batch: next, caches: batched)
            #expect(rows.count == lengths.count)
            for i in lengths.indices {
                let alone = try model.forward([next[i]], cache: single[i])
                #expect(rows[i].count == alone.count)
                for (a, b) in zip(rows[i], alone) { worst = max(worst, abs(a - b)) }
                #expect(batched[i].count == single[i].count)
                next[i] = Sampler.argmax(alone)
            }
        }
        return worst
    }

    @Test(arguments: ["gemma", "gemma2", "gemma3"])
    func batchedRowsEqualOneAtATimeAcrossTheSlidingWindow(_ arch: String) throws {
        let (model, expected) = try TinyModelTests.fixture(arch)
        // Lengths 1, 3, 6, 11 under a window of 4: some sequences cross it during the steps, some
        // start beyond it.
        let worst = try Self.largestDifference(model, ids: expected.ids, lengths: [1, 3, 6, 11], steps: 6)
        #expect(worst == 0, "max |Δlogit| = \(worst)")
    }

    /// From `sgemmThreshold` rows on, a prefill switches matrix kernels; a decode batch must not.
    @Test func aBatchAsLargeAsThePrefillThresholdStillEqualsOneAtATime() throws {
        let (model, expected) = try TinyModelTests.fixture("gemma3")
        let lengths = (0..<(QuantizedMatrix.sgemmThreshold + 2)).map { 1 + $0 % 12 }
        let worst = try Self.largestDifference(model, ids: expected.ids, lengths: lengths, steps: 2)
        #expect(worst == 0, "max |Δlogit| = \(worst)")
    }

    @Test func withALoRAAdapterBatchedRowsEqualOneAtATime() throws {
        let (model, expected) = try TinyModelTests.fixture("gemma2")
        var rng = SeededGenerator(seed: 7)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextUnitFloat() - 0.5 } }
        let rank = 2
        for layer in 0..<model.config.layerCount {
            for role in [LayerTensor.q, .v, .down] {
                guard let lin = model.weights.layers[layer][linear: role] else { continue }
                model.setLoRA(layer: layer, role: role, LoRAWeights(
                    rank: rank, a: random(rank * lin.inFeatures), b: random(lin.outFeatures * rank), scale: 2))
            }
        }
        let worst = try Self.largestDifference(model, ids: expected.ids, lengths: [2, 7, 12], steps: 4)
        #expect(worst == 0, "max |Δlogit| = \(worst)")
    }

    @Test(.enabled(if: RealModel.isAvailable, "the default model is not installed"))
    func onTheDefaultModelBatchedRowsEqualOneAtATime() throws {
        let m = try RealModel.load(.fast)
        let ids = m.tokenizer.encode("Who painted the Mona Lisa? Answer in one short sentence, please.",
                                     addBOS: true, parseSpecial: true)
        let worst = try Self.largestDifference(m.model, ids: ids, lengths: [3, ids.count / 2, ids.count], steps: 3)
        #expect(worst == 0, "max |Δlogit| = \(worst)")
    }

    @Test func badBatchesAreRefusedBeforeAnythingRuns() throws {
        let (model, _) = try TinyModelTests.fixture("gemma3")
        let a = KVCache(config: model.config), b = KVCache(config: model.config, limit: 1)
        _ = try model.forward([2], cache: b)
        #expect(throws: GemmaError.emptyPrompt) { try model.forward(batch: [], caches: []) }
        #expect(throws: GemmaError.self) { try model.forward(batch: [5, 6], caches: [a]) }
        #expect(throws: GemmaError.self) { try model.forward(batch: [5, 6], caches: [a, a]) }
        #expect(throws: GemmaError.tokenOutOfRange(id: 128, vocabularySize: 128)) {
            try model.forward(batch: [5, 128], caches: [a, KVCache(config: model.config)])
        }
        #expect(throws: GemmaError.contextOverflow(needed: 2, limit: 1)) {
            try model.forward(batch: [5, 6], caches: [a, b])
        }
        #expect(a.count == 0 && b.count == 1, "a refused batch leaves every cache as it was")
    }
}
