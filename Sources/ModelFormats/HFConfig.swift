import Foundation
import JSON

/// A Hugging Face `config.json` for the Gemma family (google/gemma-2b, Gemma 2, Gemma 3): the one type
/// that reads and writes it. `HFCheckpoint` reads it once for the loader, `GemmaConfig(huggingFace:)`
/// maps it to the engine's configuration, and lora-merge writes it beside a merged checkpoint.
///
/// Keys, defaults and nesting follow transformers' `GemmaConfig`, `Gemma2Config` and
/// `Gemma3TextConfig` (docs/gemma.md, "Configuration"), and every default is stated here once:
/// - A Gemma3Config (multimodal) nests the language model's fields under `text_config`; they are read
///   from there, with `architectures`, token ids, `tie_word_embeddings` and the dtype falling back to
///   the top level where such configs keep them.
/// - RoPE: transformers 4's `rope_theta` and `rope_local_base_freq`, or transformers 5's
///   `rope_parameters`, flat or keyed by `full_attention` / `sliding_attention`, which take
///   precedence. A `rope_type` other than `default` (here or in 4's `rope_scaling`) is refused: the
///   forward pass implements plain RoPE only, and scaled positions would come out silently wrong.
/// - Writing gives the flat form with every field explicit and transformers 4's RoPE keys, which
///   transformers 4 and 5 both read.
public struct HFConfig: Codable, Sendable, Equatable {
    public var modelType: String
    public var architectures: [String]
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Defaults to `numAttentionHeads` (no grouped-query attention).
    public var numKeyValueHeads: Int
    /// Defaults to `hiddenSize / numAttentionHeads`.
    public var headDim: Int
    public var rmsNormEps: Double = 1e-6
    /// RoPE base of global (full-attention) layers.
    public var ropeTheta: Double = 10_000
    /// RoPE base of sliding-window layers when the file gives one; `localRopeTheta` applies the default.
    public var ropeLocalBaseFreq: Double?
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int = 8192
    public var slidingWindow: Int?
    /// Gemma 3: every `slidingWindowPattern`-th layer is global (`sliding_window_pattern` or
    /// `_sliding_window_pattern`); 6 when the file gives none.
    public var slidingWindowPattern: Int?
    /// "sliding_attention" / "full_attention" per layer, where the config lists them.
    public var layerTypes: [String]?
    /// Attention scores are scaled by `queryPreAttnScalar^-0.5` (Gemma 2/3); nil means `headDim`.
    public var queryPreAttnScalar: Double?
    public var attnLogitSoftcapping: Double?
    public var finalLogitSoftcapping: Double?
    /// `hidden_activation`, else `hidden_act`, else "gelu_pytorch_tanh". Gemma's MLP is the tanh
    /// approximation in every generation; google/gemma-2b's config says "gelu", and transformers
    /// chose the tanh form for it regardless, so the model code decides what to honour.
    public var hiddenActivation: String = "gelu_pytorch_tanh"
    public var tieWordEmbeddings: Bool = true
    public var bosTokenId: Int = 2
    /// `eos_token_id` may be a number or a list (Gemma 3 instruction models list 1 and 106).
    public var eosTokenIds: [Int] = [1]
    public var padTokenId: Int?
    /// `torch_dtype` or `dtype`, e.g. "bfloat16".
    public var torchDtype: String?
    // Read and written for transformers; the forward pass has no bias, dropout or cache switch.
    public var attentionBias: Bool = false
    public var attentionDropout: Double = 0
    public var initializerRange: Double = 0.02
    public var useCache: Bool = true

    public init(modelType: String, architectures: [String] = [], hiddenSize: Int, intermediateSize: Int,
                numHiddenLayers: Int, numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                vocabSize: Int) {
        self.modelType = modelType
        self.architectures = architectures
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.vocabSize = vocabSize
    }

    /// Gemma 3 (`gemma3`, `gemma3_text`), whose defaults differ: a second RoPE base of 10000 and a
    /// layer pattern of 6.
    public var isGemma3: Bool { modelType.hasPrefix("gemma3") }

    /// The RoPE base of sliding-window layers: the file's, else 10000 for Gemma 3, else `ropeTheta`.
    public var localRopeTheta: Double { ropeLocalBaseFreq ?? (isGemma3 ? 10_000 : ropeTheta) }

    /// Whether layer `index` uses sliding-window attention: from `layer_types` when listed, else (when
    /// a window is set) Gemma 3's pattern (every `slidingWindowPattern`-th layer global) or Gemma 2's
    /// alternation (even layers slide); never for Gemma 1.
    public func isSlidingLayer(_ index: Int) -> Bool {
        if let types = layerTypes, types.indices.contains(index) {
            return types[index] == "sliding_attention"
        }
        guard slidingWindow != nil else { return false }
        if isGemma3 {
            let pattern = slidingWindowPattern ?? 6
            return pattern > 0 && (index + 1) % pattern != 0
        }
        return modelType == "gemma2" && index % 2 == 0
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeLocalBaseFreq = "rope_local_base_freq"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case slidingWindow = "sliding_window"
        case slidingWindowPattern = "sliding_window_pattern"
        case privateSlidingWindowPattern = "_sliding_window_pattern"
        case layerTypes = "layer_types"
        case queryPreAttnScalar = "query_pre_attn_scalar"
        case attnLogitSoftcapping = "attn_logit_softcapping"
        case finalLogitSoftcapping = "final_logit_softcapping"
        case hiddenActivation = "hidden_activation"
        case hiddenAct = "hidden_act"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case padTokenId = "pad_token_id"
        case torchDtype = "torch_dtype"
        case dtype
        case attentionBias = "attention_bias"
        case attentionDropout = "attention_dropout"
        case initializerRange = "initializer_range"
        case useCache = "use_cache"
        case textConfig = "text_config"
    }

    /// The keys of a `rope_parameters` entry and of `rope_scaling`.
    enum RopeKeys: String, CodingKey {
        case ropeType = "rope_type", type, ropeTheta = "rope_theta"
        case fullAttention = "full_attention", slidingAttention = "sliding_attention"
    }

    public init(from decoder: Decoder) throws {
        let top = try decoder.container(keyedBy: CodingKeys.self)
        // Fields of the language model come from text_config when present, else the top level.
        let nested = try top.contains(.textConfig) && !top.decodeNil(forKey: .textConfig)
        let text = nested ? try top.nestedContainer(keyedBy: CodingKeys.self, forKey: .textConfig) : top
        let scopes = nested ? [text, top] : [top]
        func optional<T: Decodable>(_ key: CodingKeys, in containers: [KeyedDecodingContainer<CodingKeys>] = [text]) throws -> T? {
            for c in containers {
                if let v = try c.decodeIfPresent(T.self, forKey: key) { return v }
            }
            return nil
        }
        // A Gemma3Config's text part is a Gemma3TextConfig, whether or not it says so.
        if let type: String = try optional(.modelType) {
            modelType = type
        } else {
            let outer = try top.decode(String.self, forKey: .modelType)
            modelType = nested && outer == "gemma3" ? "gemma3_text" : outer
        }
        architectures = try optional(.architectures, in: scopes) ?? []
        hiddenSize = try text.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try text.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try text.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try text.decode(Int.self, forKey: .numAttentionHeads)
        vocabSize = try text.decode(Int.self, forKey: .vocabSize)
        numKeyValueHeads = try optional(.numKeyValueHeads) ?? numAttentionHeads
        headDim = try optional(.headDim) ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        rmsNormEps = try optional(.rmsNormEps) ?? rmsNormEps
        ropeTheta = try optional(.ropeTheta) ?? ropeTheta
        ropeLocalBaseFreq = try optional(.ropeLocalBaseFreq)
        try decodeRopeParameters(text)
        maxPositionEmbeddings = try optional(.maxPositionEmbeddings) ?? maxPositionEmbeddings
        slidingWindow = try optional(.slidingWindow)
        slidingWindowPattern = try optional(.slidingWindowPattern) ?? optional(.privateSlidingWindowPattern)
        layerTypes = try optional(.layerTypes)
        queryPreAttnScalar = try optional(.queryPreAttnScalar)
        attnLogitSoftcapping = try optional(.attnLogitSoftcapping)
        finalLogitSoftcapping = try optional(.finalLogitSoftcapping)
        hiddenActivation = try optional(.hiddenActivation) ?? optional(.hiddenAct) ?? hiddenActivation
        tieWordEmbeddings = try optional(.tieWordEmbeddings, in: scopes) ?? tieWordEmbeddings
        bosTokenId = try optional(.bosTokenId, in: scopes) ?? bosTokenId
        padTokenId = try optional(.padTokenId, in: scopes)
        torchDtype = try optional(.torchDtype, in: scopes) ?? optional(.dtype, in: scopes)
        attentionBias = try optional(.attentionBias) ?? attentionBias
        attentionDropout = try optional(.attentionDropout) ?? attentionDropout
        initializerRange = try optional(.initializerRange) ?? initializerRange
        useCache = try optional(.useCache, in: scopes) ?? useCache
        for c in scopes {
            guard try c.contains(.eosTokenId) && !c.decodeNil(forKey: .eosTokenId) else { continue }
            if let single = try? c.decode(Int.self, forKey: .eosTokenId) {
                eosTokenIds = [single]
            } else if let list = try? c.decode([Int].self, forKey: .eosTokenId) {
                eosTokenIds = list
            } else {
                throw DecodingError.dataCorruptedError(
                    forKey: .eosTokenId, in: c, debugDescription: "must be an integer or a list of integers")
            }
            break
        }
    }

    /// transformers 5's `rope_parameters` (over 4's keys, read before) and 4's `rope_scaling`.
    private mutating func decodeRopeParameters(_ text: KeyedDecodingContainer<CodingKeys>) throws {
        func refuseScaling(_ c: KeyedDecodingContainer<RopeKeys>) throws {
            let key: RopeKeys = c.contains(.ropeType) ? .ropeType : .type
            if let type = try c.decodeIfPresent(String.self, forKey: key), type != "default" {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "rope_type '\(type)' is not supported (only plain RoPE, 'default')")
            }
        }
        if try text.contains(.ropeScaling) && !text.decodeNil(forKey: .ropeScaling) {
            try refuseScaling(text.nestedContainer(keyedBy: RopeKeys.self, forKey: .ropeScaling))
        }
        guard try text.contains(.ropeParameters) && !text.decodeNil(forKey: .ropeParameters) else { return }
        let rope = try text.nestedContainer(keyedBy: RopeKeys.self, forKey: .ropeParameters)
        if rope.contains(.fullAttention) {
            let full = try rope.nestedContainer(keyedBy: RopeKeys.self, forKey: .fullAttention)
            try refuseScaling(full)
            ropeTheta = try full.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? ropeTheta
            if rope.contains(.slidingAttention) {
                let sliding = try rope.nestedContainer(keyedBy: RopeKeys.self, forKey: .slidingAttention)
                try refuseScaling(sliding)
                ropeLocalBaseFreq = try sliding.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? ropeLocalBaseFreq
            }
        } else {
            try refuseScaling(rope)
            if let theta = try rope.decodeIfPresent(Double.self, forKey: .ropeTheta) {
                ropeTheta = theta
                // One base for every layer, unless Gemma 3 keeps its local one.
                if !isGemma3 { ropeLocalBaseFreq = nil }
            }
        }
    }

    /// Writes the flat (text-only) form with every field explicit.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(architectures, forKey: .architectures)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(ropeLocalBaseFreq, forKey: .ropeLocalBaseFreq)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
        try c.encodeIfPresent(slidingWindowPattern, forKey: .slidingWindowPattern)
        try c.encodeIfPresent(layerTypes, forKey: .layerTypes)
        try c.encodeIfPresent(queryPreAttnScalar, forKey: .queryPreAttnScalar)
        try c.encodeIfPresent(attnLogitSoftcapping, forKey: .attnLogitSoftcapping)
        try c.encodeIfPresent(finalLogitSoftcapping, forKey: .finalLogitSoftcapping)
        try c.encode(hiddenActivation, forKey: .hiddenActivation)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(bosTokenId, forKey: .bosTokenId)
        if eosTokenIds.count == 1 {
            try c.encode(eosTokenIds[0], forKey: .eosTokenId)
        } else {
            try c.encode(eosTokenIds, forKey: .eosTokenId)
        }
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
        try c.encodeIfPresent(torchDtype, forKey: .torchDtype)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(attentionDropout, forKey: .attentionDropout)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encode(useCache, forKey: .useCache)
    }

    /// Reads and decodes `config.json`; errors name the file and the offending key.
    public static func load(path: String) throws -> HFConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelFormatError.io(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        let config: HFConfig
        do { config = try JSONDocument.decode(HFConfig.self, from: data) } catch {
            throw ModelFormatError.malformed(path: path, message: error.message)
        }
        try config.validate(path: path)
        return config
    }

    /// The file's text: keys sorted and indented by two spaces, as transformers writes config.json.
    public func jsonText() throws -> String {
        JSONSerializer.prettyString(try JSONValue(encoding: self))
    }

    /// Refuses sizes no model can have, which would otherwise surface as crashes in the loader.
    func validate(path: String) throws {
        let positive: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize), ("num_hidden_layers", numHiddenLayers),
            ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
            ("head_dim", headDim), ("vocab_size", vocabSize),
        ]
        for (key, value) in positive where value <= 0 {
            throw ModelFormatError.malformed(path: path, message: "key '\(key)' is \(value), expected a positive integer")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw ModelFormatError.malformed(
                path: path, message: "num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        if let types = layerTypes, types.count != numHiddenLayers {
            throw ModelFormatError.malformed(path: path, message: "layer_types lists \(types.count) layers, num_hidden_layers is \(numHiddenLayers)")
        }
    }
}
