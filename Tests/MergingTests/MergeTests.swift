import Adapters
import Archive
import Foundation
import Gemma
import Merging
import ModelFormats
import TensorKit
import Testing

/// Merged models (GGUF in F32/F16/Q8_0, Hugging Face directory) against the base with the adapter
/// applied at load: the same function, so the same logits up to the storage type's rounding.
@Suite struct MergeTests {
    let dir: TemporaryDirectory
    let basePath: String
    let adapterPath: String

    init() throws {
        dir = try TemporaryDirectory()
        basePath = try TinyGemmaFile.write(to: dir("base.gguf"))
        adapterPath = try RandomAdapter(model: TinyGemmaFile.config).write(to: dir("banking-lora"))
    }

    func unmergedLogits() throws -> [Float] {
        let model = try ModelLoader.loadModel(path: basePath, pool: TinyGemmaFile.pool, precision: .exact)
        try AdapterLoader.apply(adapterPath, to: model)
        return try TinyGemmaFile.logits(model)
    }

    func mergedLogits(out: String, type: MergedWeightType) throws -> [Float] {
        let summary = try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: out, type: type, threads: 2).run()
        #expect(summary.adapterName == "banking-lora")
        #expect(summary.mergedTensors == 6 * 7)
        let merged = try ModelLoader.loadModel(path: out, pool: TinyGemmaFile.pool, precision: .exact)
        for layer in merged.weights.layers { #expect(layer.q.lora == nil) }
        return try TinyGemmaFile.logits(merged)
    }

    @Test func theAdapterChangesTheLogits() throws {
        let base = try ModelLoader.loadModel(path: basePath, pool: TinyGemmaFile.pool, precision: .exact)
        #expect(TinyGemmaFile.maxDifference(try TinyGemmaFile.logits(base), try unmergedLogits()) > 0.05)
    }

    /// F32 is exact up to summation order; F16 and Q8_0 round each merged weight (relative errors
    /// about 5e-4 and 4e-3), so their tolerance is a fraction of the largest logit.
    @Test(arguments: [(MergedWeightType.f32, Float(1e-4)), (.f16, 5e-3), (.q8_0, 3e-2)])
    func mergedGGUFGivesTheLogitsOfTheUnmergedAdapter(_ type: MergedWeightType, _ tolerance: Float) throws {
        let reference = try unmergedLogits()
        let logits = try mergedLogits(out: dir("merged-\(type).gguf"), type: type)
        let scale = type == .f32 ? 1 : reference.reduce(0) { max($0, abs($1)) }
        let worst = TinyGemmaFile.maxDifference(reference, logits)
        #expect(worst < tolerance * scale, "max |Δlogit| = \(worst) with \(type), largest logit \(scale)")
    }

    @Test func mergedGGUFKeepsMetadataTypesAndAlignment() throws {
        let out = dir("merged.gguf")
        _ = try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: out, type: .q8_0, threads: 2).run()
        let base = try GGUFFile(path: basePath), merged = try GGUFFile(path: out)
        #expect(merged.tensorNames == base.tensorNames)
        #expect(merged.metadata["general.name"]?.string == "tiny-gemma3 + banking-lora")
        #expect(merged.metadata[MergedGGUFWriter.adapterKey]?.string == "banking-lora")
        #expect(merged.metadata["general.file_type"] == nil)
        for key in base.metadataKeys where !["general.name", "general.file_type"].contains(key) {
            #expect(merged.metadata[key] == base.metadata[key], "metadata '\(key)'")
        }
        for t in merged.tensors {
            #expect(t.offset % merged.alignment == 0, "\(t.name) at \(t.offset)")
            let adapted = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
                .contains { t.name.hasSuffix(".\($0).weight") }
            #expect(t.type == (adapted ? .q8_0 : .f32), "\(t.name) is \(t.type)")
            if !adapted {
                #expect(Array(try merged.tensorBytes(t.name)) == Array(try base.tensorBytes(t.name)), "\(t.name) copied")
            }
        }
    }

    @Test func huggingFaceDirectoryGivesTheLogitsOfTheUnmergedAdapter() throws {
        let out = dir("merged-hf")
        let reference = try unmergedLogits()
        let logits = try mergedLogits(out: out, type: .f32)
        let worst = TinyGemmaFile.maxDifference(reference, logits)
        #expect(worst < 1e-4, "max |Δlogit| = \(worst)")
        // No tokenizer can be made from a GGUF base without a vocabulary.
        #expect(!FileManager.default.fileExists(atPath: out + "/tokenizer.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func huggingFaceConfigReadsBackAsTheBaseConfiguration() throws {
        let out = dir("merged-hf")
        _ = try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: out, type: .f16, threads: 2).run()
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["model_type"] as? String == "gemma3_text")
        #expect(json["architectures"] as? [String] == ["Gemma3ForCausalLM"])
        #expect(json["torch_dtype"] as? String == "float16")
        #expect(json["query_pre_attn_scalar"] as? Int == 32)
        #expect((json["layer_types"] as? [String])?.last == "full_attention")
        let model = try ModelLoader.loadModel(path: out, pool: TinyGemmaFile.pool)
        var expected = TinyGemmaFile.config
        expected.contextLength = model.config.contextLength
        #expect(model.config == expected)
        let st = try SafetensorsFile(path: out + "/model.safetensors")
        #expect(st.metadata["format"] == "pt")
        #expect(try st.tensorInfo("model.layers.0.self_attn.q_proj.weight").shape == [64, 64])
        #expect(try st.tensorInfo("model.layers.5.mlp.down_proj.weight").shape == [64, 128])
        #expect(!st.tensorNames.contains("lm_head.weight"))
    }

    /// An earlier output of lora-merge is replaced whole (other directories are refused:
    /// LoRAMergeCommandTests.outReplacesOnlyAnEarlierMerge).
    @Test func rewritingAnExistingOutputReplacesIt() throws {
        let out = dir("again-hf")
        _ = try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: out, threads: 2).run()
        try Data("stale".utf8).write(to: URL(fileURLWithPath: out + "/stale.txt"))
        _ = try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: out, threads: 2).run()
        #expect(!FileManager.default.fileExists(atPath: out + "/stale.txt"))
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    @Test func archivedAdapterMergesLikeTheDirectory() throws {
        let archive = dir("banking-lora.tar.gz")
        try TarGzWriter.write(directory: adapterPath, to: archive)
        let out = dir("from-archive.gguf")
        let summary = try LoRAMerger(basePath: basePath, adapterPath: archive, outputPath: out, threads: 2).run()
        #expect(summary.adapterName == "banking-lora")
        let merged = try ModelLoader.loadModel(path: out, pool: TinyGemmaFile.pool, precision: .exact)
        #expect(TinyGemmaFile.maxDifference(try unmergedLogits(), try TinyGemmaFile.logits(merged)) < 1e-4)
    }

    @Test func q8_0IsRefusedForAHuggingFaceDirectory() throws {
        #expect(throws: MergeError.self) {
            try LoRAMerger(basePath: basePath, adapterPath: adapterPath, outputPath: dir("hf"), type: .q8_0).run()
        }
        #expect(!FileManager.default.fileExists(atPath: dir("hf")))
    }

    /// The BLAS merge against the definition W'[o][i] = W[o][i] + s · Σ_k B[o][k] A[k][i].
    @Test func mergedWeightMatchesTheDefinition() throws {
        let model = try ModelLoader.loadModel(path: basePath, pool: TinyGemmaFile.pool, precision: .exact)
        let plain = model.weights.layers[0].down
        let (out, inF, r) = (plain.outFeatures, plain.inFeatures, 3)
        var rng = SeededGenerator(seed: 3)
        let a = (0..<(r * inF)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(out * r)).map { _ in Float.random(in: -1...1, using: &rng) }
        var adapted = plain
        adapted.lora = LoRAWeights(rank: r, a: a, b: b, scale: 0.75)
        let w = plain.mergedWeight(), merged = adapted.mergedWeight()
        var worst: Float = 0
        for o in 0..<out {
            for i in 0..<inF {
                var delta: Float = 0
                for k in 0..<r { delta += b[o * r + k] * a[k * inF + i] }
                worst = max(worst, abs(merged[o * inF + i] - (w[o * inF + i] + 0.75 * delta)))
            }
        }
        #expect(worst < 1e-5)
    }
}
