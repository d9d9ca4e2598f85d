import JSON
import ModelFormats

// Between the engine's configuration and a Hugging Face config.json, whose keys and defaults
// `HFConfig` holds (docs/gemma.md, "Configuration"): read for the loader, written by lora-merge.

extension GemmaConfig {
    /// The configuration a Hugging Face `config.json` describes: GemmaConfig, Gemma2Config,
    /// Gemma3TextConfig, or a Gemma3Config whose text part sits under `text_config`.
    public init(huggingFace c: HFConfig, source: String) throws {
        let arch: GemmaArchitecture
        switch c.modelType {
        case "gemma": arch = .gemma
        case "gemma2": arch = .gemma2
        case "gemma3", "gemma3_text": arch = .gemma3
        default: throw GemmaError.unsupportedArchitecture(source: source, architecture: c.modelType)
        }
        self.init(
            architecture: arch, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
            layerCount: c.numHiddenLayers, headCount: c.numAttentionHeads, kvHeadCount: c.numKeyValueHeads,
            headDim: c.headDim, vocabularySize: c.vocabSize, rmsNormEps: Float(c.rmsNormEps),
            ropeBase: Float(c.ropeTheta), ropeLocalBase: Float(c.localRopeTheta),
            slidingWindow: arch == .gemma ? nil : c.slidingWindow,
            slidingLayers: (0..<max(c.numHiddenLayers, 0)).map(c.isSlidingLayer),
            attentionScale: arch == .gemma ? nil : c.queryPreAttnScalar.map { 1 / Float($0).squareRoot() },
            attentionSoftcap: arch == .gemma2 ? c.attnLogitSoftcapping.map(Float.init) : nil,
            finalLogitSoftcap: arch == .gemma2 ? c.finalLogitSoftcapping.map(Float.init) : nil,
            contextLength: c.maxPositionEmbeddings, bosID: c.bosTokenId, eosIDs: c.eosTokenIds, padID: c.padTokenId)
        try validate(source: source)
    }

    /// Reads a parsed `config.json` object; errors name `source` and the key.
    public init(huggingFace json: JSONObject, source: String) throws {
        let config: HFConfig
        do { config = try JSONDocument.decode(HFConfig.self, from: .object(json)) } catch {
            throw GemmaError.invalidConfig(source: source, message: error.message)
        }
        try self.init(huggingFace: config, source: source)
    }
}

extension HFConfig {
    /// The config.json of a checkpoint of `c`, as transformers would write it: the generation's
    /// `model_type` and `architectures`, the layer pattern both as `layer_types` and (when it is
    /// Gemma 3's default) `sliding_window_pattern`, so that transformers 4.5x and later read the same
    /// layers; what the engine does not hold (activation, dropout, initializer range) keeps HFConfig's
    /// defaults, which are google/gemma-3-270m's.
    public init(_ c: GemmaConfig, tiedEmbeddings: Bool, torchDtype: String) {
        let names: (type: String, architecture: String)
        switch c.architecture {
        case .gemma: names = ("gemma", "GemmaForCausalLM")
        case .gemma2: names = ("gemma2", "Gemma2ForCausalLM")
        case .gemma3: names = ("gemma3_text", "Gemma3ForCausalLM")
        }
        self.init(modelType: names.type, architectures: [names.architecture], hiddenSize: c.hiddenSize,
                  intermediateSize: c.intermediateSize, numHiddenLayers: c.layerCount, numAttentionHeads: c.headCount,
                  numKeyValueHeads: c.kvHeadCount, headDim: c.headDim, vocabSize: c.vocabularySize)
        rmsNormEps = Self.decimal(c.rmsNormEps)
        ropeTheta = Self.decimal(c.ropeBase)
        maxPositionEmbeddings = c.contextLength
        if c.architecture != .gemma {
            slidingWindow = c.slidingWindow
            layerTypes = c.slidingLayers.map { $0 ? "sliding_attention" : "full_attention" }
            // The forward scales scores by 1/sqrt(query_pre_attn_scalar).
            let scalar = 1 / (Double(c.attentionScale) * Double(c.attentionScale))
            queryPreAttnScalar = (scalar - scalar.rounded()).magnitude < 1e-3 ? scalar.rounded() : scalar
        }
        if c.architecture == .gemma2 {
            attnLogitSoftcapping = c.attentionSoftcap.map(Self.decimal)
            finalLogitSoftcapping = c.finalLogitSoftcap.map(Self.decimal)
        }
        if c.architecture == .gemma3 {
            ropeLocalBaseFreq = Self.decimal(c.ropeLocalBase)
            if c.slidingLayers == GemmaConfig.defaultSlidingLayers(.gemma3, layerCount: c.layerCount, hasWindow: true) {
                slidingWindowPattern = 6
            }
        }
        tieWordEmbeddings = tiedEmbeddings
        bosTokenId = c.bosID
        eosTokenIds = c.eosIDs
        padTokenId = c.padID
        self.torchDtype = torchDtype
    }

    /// The shortest decimal that reads back as the same Float (1e-06, not 9.99999997e-07).
    static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }
}
