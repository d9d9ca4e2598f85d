import Foundation
import Gemma
import ModelFormats
import Records
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
}
