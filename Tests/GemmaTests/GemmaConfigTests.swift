import Foundation
import Gemma
import ModelFormats
import Records
import TestSupport
import Testing

/// Configurations: what is read from Hugging Face config.json and GGUF metadata, and what is refused.
@Suite struct GemmaConfigTests {
    func hf(_ json: String) throws -> GemmaConfig {
        try GemmaConfig(huggingFace: try JSONParser.parse(json).object!, source: "config.json")
    }

    let base = #""hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 100"#

    @Test func otherArchitecturesAreRefusedByName() throws {
        #expect(throws: GemmaError.unsupportedArchitecture(source: "config.json", architecture: "llama")) {
            try hf(#"{"model_type": "llama", "# + base + "}")
        }
        let path = NSTemporaryDirectory() + "llama-\(UUID().uuidString).gguf"
        var w = GGUFWriter()
        try w.setMetadata("general.architecture", .string("llama"))
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GemmaError.unsupportedArchitecture(source: path, architecture: "llama")) {
            try GemmaConfig(gguf: try GGUFFile(path: path))
        }
    }

    @Test func gemma3LayerPatternAndRopeBasesFromBothConfigForms() throws {
        let v4 = try hf(#"{"model_type": "gemma3_text", "rope_theta": 1000000, "rope_local_base_freq": 10000, "sliding_window": 512, "sliding_window_pattern": 6, "query_pre_attn_scalar": 256, "#
                        + base + "}")
        #expect(v4.slidingLayers == [true, true, true, true, true, false])
        #expect(v4.ropeBase == 1_000_000 && v4.ropeLocalBase == 10_000)
        #expect(v4.attentionScale == Float(1) / 16)
        let nested = try hf(#"{"model_type": "gemma3", "text_config": {"sliding_window": 4, "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention", "sliding_attention", "full_attention"], "#
                            + base + "}}")
        #expect(nested.architecture == .gemma3)
        #expect(nested.slidingLayers == [true, false, true, false, true, false])
    }

    /// Without layer_types or a pattern: Gemma 2 slides on even layers when a window is set; Gemma 1
    /// never, even with a window.
    @Test func gemma2AlternatesAndGemma1NeverSlides() throws {
        let gemma2 = try hf(#"{"model_type": "gemma2", "sliding_window": 4096, "# + base + "}")
        #expect(gemma2.slidingLayers == [true, false, true, false, true, false])
        let gemma1 = try hf(#"{"model_type": "gemma", "sliding_window": 4096, "# + base + "}")
        #expect(!gemma1.slidingLayers.contains(true))
    }

    @Test(arguments: [
        (#"{"model_type": "gemma", "hidden_size": "64"}"#, "'hidden_size' must be an integer"),
        (#"{"model_type": "gemma", "hidden_size": 64}"#, "missing key"),
        (#"{"model_type": "gemma2", "rope_parameters": {"rope_type": "yarn", "rope_theta": 1}, "#
            + #""hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10}"#,
         "rope_type 'yarn'"),
        (#"{"model_type": "gemma", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 2, "vocab_size": 10}"#,
         "not a multiple"),
    ])
    func malformedConfigsNameTheProblem(_ json: String, _ expected: String) throws {
        do {
            _ = try hf(json)
            Issue.record("expected an error for \(json)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    static func fixtureConfig(_ arch: String) throws -> HFConfig {
        return try HFConfig.load(path: SharedFixtures.path("tiny-\(arch)") + "/config.json")
    }

    /// The fixtures' config.json files are transformers 5's (`rope_parameters`, `layer_types`).
    @Test func fixtureConfigsFromTransformers5() throws {
        let gemma = try GemmaConfig(huggingFace: Self.fixtureConfig("gemma"), source: "tiny-gemma")
        #expect(gemma.architecture == .gemma && gemma.ropeBase == 10_000 && gemma.ropeLocalBase == 10_000)
        #expect(gemma.slidingWindow == nil && gemma.slidingLayers == [false, false, false] && gemma.padID == 0)
        let gemma2 = try GemmaConfig(huggingFace: Self.fixtureConfig("gemma2"), source: "tiny-gemma2")
        #expect(gemma2.attentionSoftcap == 1 && gemma2.finalLogitSoftcap == 2 && gemma2.attentionScale == 0.25)
        #expect(gemma2.slidingWindow == 4 && gemma2.slidingLayers == [true, false, true, false])
        let gemma3 = try GemmaConfig(huggingFace: Self.fixtureConfig("gemma3"), source: "tiny-gemma3")
        #expect(gemma3.ropeBase == 1_000_000 && gemma3.ropeLocalBase == 10_000)
        #expect(gemma3.slidingLayers == [true, true, true, true, true, false] && gemma3.contextLength == 256)
    }

    /// What lora-merge writes reads back as the configuration it was written from, for each generation.
    @Test(arguments: ["gemma", "gemma2", "gemma3"])
    func writtenConfigReadsBack(arch: String) throws {
        let config = try GemmaConfig(huggingFace: Self.fixtureConfig(arch), source: arch)
        let written = HFConfig(config, tiedEmbeddings: true, torchDtype: "float32")
        let text = try written.jsonText()
        let reread = try GemmaConfig(huggingFace: JSONParser.parse(text).object!, source: arch)
        #expect(reread == config, "\(text)")
    }

    @Test(arguments: [
        (#"{"rope_parameters": {"rope_type": "default", "rope_theta": 50000}}"#, 50_000, 50_000),
        (#"{"rope_theta": 20000, "rope_local_base_freq": 30000}"#, 20_000, 30_000),
        (#"{"rope_theta": 20000, "rope_parameters": {"rope_theta": 40000}}"#, 40_000, 40_000),
        (#"{"rope_parameters": {"full_attention": {"rope_theta": 1e6}, "sliding_attention": {"rope_theta": 5e3}}}"#, 1_000_000, 5_000),
    ] as [(String, Float, Float)])
    func ropeBasesFromEitherGeneration(keys: String, global: Float, local: Float) throws {
        let json = keys.dropLast() + ", \"model_type\": \"gemma2\", " + base + "}"
        let c = try hf(String(json))
        #expect(c.ropeBase == global && c.ropeLocalBase == local)
    }

    @Test func scaledRopeIsRefusedWhereverItIsSet() throws {
        for rope in [#""rope_scaling": {"rope_type": "linear", "factor": 8.0}"#,
                     #""rope_scaling": {"type": "dynamic", "factor": 2.0}"#,
                     #""rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1e6}}"#] {
            do {
                _ = try hf(#"{"model_type": "gemma3_text", "# + rope + ", " + base + "}")
                Issue.record("accepted \(rope)")
            } catch {
                #expect("\(error)".contains("is not supported"), "\(error)")
            }
        }
        #expect(try hf(#"{"model_type": "gemma", "rope_scaling": null, "# + base + "}").ropeBase == 10_000)
    }
}
