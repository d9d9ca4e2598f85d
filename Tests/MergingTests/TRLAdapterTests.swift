import Adapters
import Foundation
import Gemma
import Inference
import Merging
import ModelFormats
import Records
import TensorKit
import Testing
import TestSupport

/// Issue 23, item 4: training beyond the CPU. An adapter TRL + PEFT trained on the default model
/// (Fixtures/trl-adapter, made by scripts/make-trl-adapter.py from pairs in orpo-pairs' form) comes
/// back: it applies as PEFT applies it, lora-merge merges it, and the merged model answers.
@Suite(.enabled(if: RealModel.isAvailable))
struct TRLAdapterTests {
    struct Probe: Decodable {
        let question: String
        let ids: [Int]
        /// The vocabulary ids the logits below are of.
        let vocab: [Int]
        let adapted: [Float]
        let base: [Float]
    }
    struct Expected: Decodable { let probes: [Probe] }

    static let directory = Bundle.module.resourcePath! + "/Fixtures/trl-adapter"

    static func worst(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func aTRLAdapterAppliesMergesAndAnswers() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Self.directory + "/expected.json")))
        let pool = try ComputePool(threads: 2)
        let base = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
        let adapted = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
        let adapter = try AdapterLoader.apply(Self.directory + "/adapter", to: adapted.model)
        #expect(adapter.config.targetModules.sorted() == ["q_proj", "v_proj"] && adapter.config.r == 4)

        let dir = try TemporaryDirectory()
        let mergedPath = dir("merged.gguf")
        let summary = try LoRAMerger(basePath: RealModel.path, adapterPath: Self.directory + "/adapter",
                                     outputPath: mergedPath, type: .q8_0, threads: 2).run()
        #expect(summary.mergedTensors == 18 * 2)
        let merged = try ModelLoader.load(path: mergedPath, pool: pool, precision: .exact)

        for probe in expected.probes {
            // The prompt as this project writes it is the prompt TRL trained and PEFT ran on.
            let text = "<start_of_turn>user\n\(probe.question)<end_of_turn>\n<start_of_turn>model\n"
            #expect(adapted.tokenizer.encode(text, addBOS: true, parseSpecial: true) == probe.ids)
            let full = try adapted.model.forward(probe.ids, cache: KVCache(config: adapted.model.config))
            let fullBase = try base.model.forward(probe.ids, cache: KVCache(config: base.model.config))
            let fullMerged = try merged.model.forward(probe.ids, cache: KVCache(config: merged.model.config))
            let a = probe.vocab.map { full[$0] }, b = probe.vocab.map { fullBase[$0] }, m = probe.vocab.map { fullMerged[$0] }
            let effect = Self.worst(probe.adapted, probe.base)
            let tolerance: Float = 0.05
            #expect(effect > 10 * tolerance, "the adapter changes PEFT's logits by \(effect) only")
            #expect(Self.worst(b, probe.base) < tolerance, "base: \(Self.worst(b, probe.base))")
            #expect(Self.worst(a, probe.adapted) < tolerance, "with the adapter: \(Self.worst(a, probe.adapted)) (its effect \(effect))")
            let peftTop = probe.vocab[Sampler.argmax(probe.adapted)]
            #expect(Sampler.argmax(full) == peftTop)
            #expect(Sampler.argmax(fullMerged) == peftTop, "merged top-1 differs for '\(probe.question)'")
            #expect(Self.worst(m, a) < 0.1 * effect, "merged vs applied: \(Self.worst(m, a)), effect \(effect)")
        }

        var settings = InferenceSettings()
        settings.maxTokens = 8
        let record = try RecordInference(model: merged, settings: settings).process(["question": "How do I activate my new card?"])
        #expect((record["answer"]?.string ?? "").isEmpty == false)
        #expect(record["completion_tokens"]?.int ?? 0 > 0)
    }
}
