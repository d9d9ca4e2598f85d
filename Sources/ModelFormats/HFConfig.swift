import Foundation

/// A Hugging Face `config.json` for the Gemma family (google/gemma-2b, Gemma 2, Gemma 3), decoded
/// with snake_case keys and explicit defaults (as transformers' `GemmaConfig`/`Gemma3TextConfig`).
/// Multimodal Gemma 3 configs nest the language model's fields under `text_config`; those are read
/// from there, with token ids falling back to the top level where such configs keep them.
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
    public var ropeTheta: Double = 10_000
    /// Gemma 3's rope base for sliding-window layers.
    public var ropeLocalBaseFreq: Double = 10_000
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int = 8192
    public var slidingWindow: Int?
    /// Gemma 3: every `slidingWindowPattern`-th layer is global (`sliding_window_pattern` or
    /// `_sliding_window_pattern`).
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
    public var padTokenId: Int = 0
    /// `torch_dtype` or `dtype`, e.g. "bfloat16".
    public var torchDtype: String?

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
        case textConfig = "text_config"
    }

    public init(from decoder: Decoder) throws {
        let top = try decoder.container(keyedBy: CodingKeys.self)
        // Fields of the language model come from text_config when present, else the top level.
        let text = top.contains(.textConfig) ? try top.nestedContainer(keyedBy: CodingKeys.self, forKey: .textConfig) : top
        let scopes = text.codingPath.isEmpty ? [top] : [text, top]
        func optional<T: Decodable>(_ key: CodingKeys, in containers: [KeyedDecodingContainer<CodingKeys>] = [text]) throws -> T? {
            for c in containers {
                if let v = try c.decodeIfPresent(T.self, forKey: key) { return v }
            }
            return nil
        }
        modelType = try optional(.modelType) ?? top.decode(String.self, forKey: .modelType)
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
        ropeLocalBaseFreq = try optional(.ropeLocalBaseFreq) ?? ropeLocalBaseFreq
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
        padTokenId = try optional(.padTokenId, in: scopes) ?? padTokenId
        torchDtype = try optional(.torchDtype, in: scopes) ?? optional(.dtype, in: scopes)
        for c in scopes where c.contains(.eosTokenId) {
            if let single = try? c.decode(Int.self, forKey: .eosTokenId) {
                eosTokenIds = [single]
            } else {
                eosTokenIds = try c.decode([Int].self, forKey: .eosTokenId)
            }
            break
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
        try c.encode(ropeLocalBaseFreq, forKey: .ropeLocalBaseFreq)
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
        try c.encode(padTokenId, forKey: .padTokenId)
        try c.encodeIfPresent(torchDtype, forKey: .torchDtype)
    }

    /// Reads and decodes `config.json`; errors name the file and the offending key.
    public static func load(path: String) throws -> HFConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelFormatError.io(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        do {
            let config = try JSONDecoder().decode(HFConfig.self, from: data)
            try config.validate(path: path)
            return config
        } catch let error as DecodingError {
            throw ModelFormatError.malformed(path: path, message: describe(error))
        }
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

    private static func describe(_ error: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(k, context):
            let parent = key(context.codingPath)
            return "missing key '\(parent.isEmpty ? "" : parent + ".")\(k.stringValue)'"
        case let .typeMismatch(type, context):
            return "key '\(key(context.codingPath))' is not \(type == Int.self ? "an integer" : "of type \(type)")"
        case let .valueNotFound(type, context):
            return "key '\(key(context.codingPath))' is null, expected \(type)"
        case let .dataCorrupted(context):
            let underlying = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            return context.codingPath.isEmpty ? "not valid JSON: \(underlying)" : "key '\(key(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
