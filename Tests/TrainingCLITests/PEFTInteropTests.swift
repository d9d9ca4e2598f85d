import Adapters
import Foundation
import Gemma
import Testing
import Training

/// An adapter orpo-train trained on the tiny Gemma 3 checkpoint (Fixtures/peft-interop, made by
/// scripts/check-peft-interop.py --write-fixture), loaded by PEFT onto transformers' model: the
/// logits transformers computed with it must be the ones this project computes with it, through
/// the inference model (GemmaModel with the adapter applied) and the training forward.
@Suite struct PEFTInteropTests {
    struct Expected: Decodable {
        let sequences: [[Int]]
        let logits: [[[Float]]]
    }

    static let directory = Bundle.module.resourcePath! + "/Fixtures/peft-interop"

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/expected.json")))
    }

    static func worst(_ logits: [Float], _ rows: [[Float]]) -> Float {
        let V = rows.first?.count ?? 0
        var worst: Float = 0
        for (t, row) in rows.enumerated() {
            for (v, x) in row.enumerated() { worst = max(worst, abs(logits[t * V + v] - x)) }
        }
        return worst
    }

    @Test func adapterTrainedHereGivesTransformersLogits() throws {
        let expected = try Self.expected()
        let model = try TinyTraining.model()
        let adapter = try AdapterLoader.apply(Self.directory + "/adapter", to: model)
        #expect(adapter.config.targetModules == ["q_proj", "v_proj", "gate_proj"] && adapter.config.r == 4)
        #expect(adapter.config.loraDropout == 0.05, "trained with the default dropout, which inference ignores")
        let base = try TinyTraining.model()
        for (ids, rows) in zip(expected.sequences, expected.logits) {
            let logits = try model.forward(ids, cache: KVCache(config: model.config), logits: .all)
            let worst = Self.worst(logits, rows)
            #expect(worst < 2e-4, "max |Δlogit| = \(worst)")
            // The adapter matters: without it the logits are far from transformers'.
            let plain = try base.forward(ids, cache: KVCache(config: base.config), logits: .all)
            #expect(Self.worst(plain, rows) > 0.05)
        }
    }

    @Test func trainingForwardGivesTransformersLogits() throws {
        let expected = try Self.expected()
        let model = try TinyTraining.model()
        let adapter = try LoRAAdapter(PEFTAdapter.read(path: Self.directory + "/adapter", model: model.config))
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: TinyTraining.pool)
        for (ids, rows) in zip(expected.sequences, expected.logits) {
            let pass = try trainable.forward(try TokenBatch(sequences: [ids], padID: 0), keepLogits: true)
            let logits = try (0..<ids.count).flatMap { try #require(pass.logits(row: $0)) }
            let worst = Self.worst(logits, rows)
            #expect(worst < 2e-4, "max |Δlogit| = \(worst)")
        }
    }
}
