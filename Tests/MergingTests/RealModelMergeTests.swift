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

/// The default model (Gemma 3 270M, Q4_K_M) with a small random adapter: merged into a Q8_0 GGUF,
/// it loads as gemma-infer loads models and predicts like the base with the adapter applied at load.
/// Runs when the model is installed, and always under CI (where the setup installs it).
@Suite(.enabled(if: RealModel.isAvailable))
struct RealModelMergeTests {
    static let prompts = [
        "<start_of_turn>user\nHow do I activate my new card?<end_of_turn>\n<start_of_turn>model\n",
        "The capital of France is",
        "My transfer has been pending for three days, what",
    ]

    @Test func mergedQ8_0GGUFPredictsLikeTheAdapterAppliedAtLoad() throws {
        let dir = try TemporaryDirectory()
        let pool = try ComputePool(threads: 2)
        let unmerged = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
        var spec = RandomAdapter(model: unmerged.model.config, r: 2, alpha: 2, modules: ["q_proj", "v_proj", "down_proj"])
        spec.seed = 11
        let adapter = try spec.write(to: dir("random-lora"), scale: 0.06)
        try AdapterLoader.apply(adapter, to: unmerged.model)

        let out = dir("merged.gguf")
        let summary = try LoRAMerger(basePath: RealModel.path, adapterPath: adapter, outputPath: out, type: .q8_0, threads: 2).run()
        #expect(summary.mergedTensors == 18 * 3)
        let merged = try ModelLoader.load(path: out, pool: pool, precision: .exact)
        #expect(merged.model.weights.layers[0].q.weight.type == .q8_0)
        #expect(merged.tokenizer.vocabularySize == unmerged.tokenizer.vocabularySize)

        for prompt in Self.prompts {
            let ids = unmerged.tokenizer.encode(prompt, addBOS: true, parseSpecial: true)
            let a = try unmerged.model.forward(ids, cache: KVCache(config: unmerged.model.config))
            let b = try merged.model.forward(ids, cache: KVCache(config: merged.model.config))
            #expect(Sampler.argmax(a) == Sampler.argmax(b), "top-1 differs after '\(prompt)'")
            let largest = a.reduce(0) { max($0, abs($1)) }
            let worst = zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
            #expect(worst < 0.1 * largest, "max |Δlogit| \(worst), largest logit \(largest)")
        }

        // What gemma-infer does with each record.
        var settings = InferenceSettings()
        settings.maxTokens = 4
        let record = try RecordInference(model: merged, settings: settings).process(["question": "Hello"])
        #expect(record["completion_tokens"]?.int ?? 0 > 0)
        #expect(record["model"]?.string == "merged")
    }
}
