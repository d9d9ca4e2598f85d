import Foundation
import Testing
@testable import ModelFormats

@Suite struct HFConfigTests {
    /// google/gemma-2b's config.json.
    static let gemma2b = """
    {"architectures": ["GemmaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 2,
     "eos_token_id": 1, "head_dim": 256, "hidden_act": "gelu", "hidden_size": 2048, "initializer_range": 0.02,
     "intermediate_size": 16384, "max_position_embeddings": 8192, "model_type": "gemma", "num_attention_heads": 8,
     "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0, "rms_norm_eps": 1e-06, "rope_scaling": null,
     "rope_theta": 10000.0, "torch_dtype": "bfloat16", "transformers_version": "4.38.0.dev0", "use_cache": true,
     "vocab_size": 256000}
    """

    /// google/gemma-3-270m's config.json (layer_types abbreviated to the pattern it follows).
    static var gemma3_270m: String {
        let types = (0..<18).map { ($0 + 1) % 6 == 0 ? "\"full_attention\"" : "\"sliding_attention\"" }.joined(separator: ",")
        return """
        {"_sliding_window_pattern": 6, "architectures": ["Gemma3ForCausalLM"], "attn_logit_softcapping": null,
         "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256,
         "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "intermediate_size": 2048,
         "layer_types": [\(types)], "max_position_embeddings": 32768, "model_type": "gemma3_text",
         "num_attention_heads": 4, "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0,
         "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000.0, "rope_scaling": null,
         "rope_theta": 1000000.0, "sliding_window": 512, "torch_dtype": "bfloat16", "vocab_size": 262144}
        """
    }

    func decode(_ json: String) throws -> HFConfig {
        try JSONDecoder().decode(HFConfig.self, from: Data(json.utf8))
    }

    @Test func decodesGemma1() throws {
        let c = try decode(Self.gemma2b)
        #expect(c.modelType == "gemma" && c.architectures == ["GemmaForCausalLM"])
        #expect(c.hiddenSize == 2048 && c.intermediateSize == 16384 && c.numHiddenLayers == 18)
        #expect(c.numAttentionHeads == 8 && c.numKeyValueHeads == 1 && c.headDim == 256)
        #expect(c.vocabSize == 256_000 && c.ropeTheta == 10_000 && c.rmsNormEps == 1e-6)
        #expect(c.hiddenActivation == "gelu")
        #expect(c.eosTokenIds == [1] && c.bosTokenId == 2 && c.padTokenId == 0)
        #expect(c.torchDtype == "bfloat16")
        #expect(c.slidingWindow == nil && c.queryPreAttnScalar == nil && c.tieWordEmbeddings)
    }

    @Test func decodesGemma3Text() throws {
        let c = try decode(Self.gemma3_270m)
        #expect(c.modelType == "gemma3_text")
        #expect(c.hiddenSize == 640 && c.numHiddenLayers == 18 && c.vocabSize == 262_144)
        #expect(c.slidingWindow == 512 && c.slidingWindowPattern == 6 && c.queryPreAttnScalar == 256)
        #expect(c.ropeTheta == 1_000_000 && c.ropeLocalBaseFreq == 10_000)
        #expect(c.attnLogitSoftcapping == nil && c.finalLogitSoftcapping == nil)
        #expect(c.hiddenActivation == "gelu_pytorch_tanh")
    }

    @Test func decodesNestedTextConfigAndEosList() throws {
        let c = try decode("""
        {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "eos_token_id": [1, 106],
         "torch_dtype": "bfloat16", "vision_config": {"hidden_size": 1152},
         "text_config": {"model_type": "gemma3_text", "hidden_size": 2560, "intermediate_size": 10240,
           "num_hidden_layers": 34, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
           "vocab_size": 262208, "sliding_window": 1024, "sliding_window_pattern": 6, "rope_theta": 1000000.0}}
        """)
        #expect(c.modelType == "gemma3_text" && c.architectures == ["Gemma3ForConditionalGeneration"])
        #expect(c.hiddenSize == 2560 && c.numKeyValueHeads == 4 && c.vocabSize == 262_208)
        #expect(c.eosTokenIds == [1, 106] && c.torchDtype == "bfloat16")
        #expect(c.slidingWindowPattern == 6)
    }

    @Test func decodesGemma2AndDefaults() throws {
        let c = try decode("""
        {"model_type": "gemma2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
         "num_attention_heads": 4, "vocab_size": 100, "sliding_window": 4096, "attn_logit_softcapping": 50.0,
         "final_logit_softcapping": 30.0, "hidden_act": "gelu_pytorch_tanh", "dtype": "float32",
         "tie_word_embeddings": false}
        """)
        #expect(c.numKeyValueHeads == 4 && c.headDim == 16)
        #expect(c.attnLogitSoftcapping == 50 && c.finalLogitSoftcapping == 30)
        #expect(c.torchDtype == "float32" && !c.tieWordEmbeddings && c.maxPositionEmbeddings == 8192)
    }

    @Test func roundTripsThroughJSON() throws {
        var c = HFConfig(modelType: "gemma3_text", hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2,
                         numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 32, vocabSize: 100)
        c.eosTokenIds = [1, 106]
        c.slidingWindow = 8
        c.layerTypes = ["sliding_attention", "full_attention"]
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(HFConfig.self, from: data) == c)
    }

    func loadFailure(_ json: String) throws -> String {
        let dir = try TemporaryDirectory()
        let path = try dir.write("config.json", text: json)
        do {
            _ = try HFConfig.load(path: path)
        } catch let error as ModelFormatError {
            #expect(error.description.hasPrefix(path + ": "))
            return error.description
        }
        Issue.record("expected \(json) to be refused")
        return ""
    }

    @Test func malformedConfigsNameTheKey() throws {
        let base = #""model_type": "gemma", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 100"#
        #expect(try loadFailure("{\(base)}").contains("missing key 'num_attention_heads'"))
        #expect(try loadFailure("{\(base), \"num_attention_heads\": \"4\"}").contains("key 'num_attention_heads' is not"))
        #expect(try loadFailure("{\(base), \"num_attention_heads\": 0}").contains("'num_attention_heads' is 0"))
        #expect(try loadFailure("{\(base), \"num_attention_heads\": 4, \"num_key_value_heads\": 3}").contains("not a multiple"))
        #expect(try loadFailure("{\(base), \"num_attention_heads\": 4, \"layer_types\": [\"full_attention\"]}").contains("layer_types lists 1"))
        #expect(try loadFailure("{\(base), \"num_attention_heads\": 4, \"eos_token_id\": \"x\"}").contains("eos_token_id"))
        #expect(try loadFailure("{\(base), \"text_config\": {\"hidden_size\": 8}}").contains("missing key 'text_config.intermediate_size'"))
        #expect(try loadFailure("{\"model_type\": ").contains("not valid JSON"))
        #expect(throws: ModelFormatError.self) { try HFConfig.load(path: "/nonexistent/config.json") }
    }

    /// transformers 5's form, as in the tiny fixtures: RoPE bases keyed by layer type.
    @Test func decodesRopeParameters() throws {
        let c = try decode("""
        {"model_type": "gemma3_text", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 6,
         "num_attention_heads": 4, "vocab_size": 128, "rope_theta": 5.0, "sliding_window": 4,
         "rope_parameters": {"full_attention": {"rope_theta": 1000000.0, "rope_type": "default"},
                             "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}}
        """)
        #expect(c.ropeTheta == 1_000_000 && c.localRopeTheta == 10_000)
        #expect((0..<6).filter { !c.isSlidingLayer($0) } == [5])
        let flat = try decode(#"{"model_type": "gemma", "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 4, "rope_parameters": {"rope_theta": 500.0}}"#)
        #expect(flat.ropeTheta == 500 && flat.localRopeTheta == 500 && flat.padTokenId == nil)
    }

    /// What `jsonText` writes, `load` reads back unchanged; keys sorted and indented as transformers writes them.
    @Test func writtenFileLoadsBackTheSameConfig() throws {
        var c = try decode(Self.gemma3_270m)
        c.eosTokenIds = [1, 106]
        c.ropeLocalBaseFreq = 20_000
        let text = try c.jsonText()
        #expect(text.hasPrefix("{\n  \"architectures\": [\n    \"Gemma3ForCausalLM\"\n  ],\n  \"attention_bias\": false,\n"))
        #expect(text.contains("\n  \"eos_token_id\": [\n    1,\n    106\n  ],\n") && text.hasSuffix("}\n"))
        let dir = try TemporaryDirectory()
        let loaded = try HFConfig.load(path: try dir.write("config.json", text: text))
        #expect(loaded == c)
    }
}
