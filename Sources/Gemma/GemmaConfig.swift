// Gemma 1, 2 and 3 (text) hyperparameters, as HF transformers' GemmaConfig / Gemma2Config /
// Gemma3TextConfig define them and llama.cpp's GGUF converter stores them (docs/gemma.md,
// "Configuration"; docs/gguf.md, "Gemma metadata").

/// Which Gemma generation a checkpoint is. The three share one forward pass with switches:
/// Gemma 2 and 3 add post-norms and sliding-window layers; Gemma 2 softcaps logits; Gemma 3
/// normalises queries and keys and uses a second RoPE base on its local layers.
public enum GemmaArchitecture: String, Codable, Sendable, CaseIterable {
    case gemma, gemma2, gemma3
}

public struct GemmaConfig: Codable, Sendable, Equatable {
    public var architecture: GemmaArchitecture
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var rmsNormEps: Float
    /// RoPE base of global (full-attention) layers.
    public var ropeBase: Float
    /// RoPE base of sliding-window layers (Gemma 3: 10000; otherwise equal to `ropeBase`).
    public var ropeLocalBase: Float
    /// Number of keys a sliding layer sees, the query's own included; nil when no layer slides.
    public var slidingWindow: Int?
    /// Per layer: true when the layer attends within the sliding window only.
    public var slidingLayers: [Bool]
    /// Attention scores are multiplied by this (1/sqrt(query_pre_attn_scalar) or 1/sqrt(head_dim)).
    public var attentionScale: Float
    public var attentionSoftcap: Float?
    public var finalLogitSoftcap: Float?
    public var contextLength: Int
    public var bosID: Int
    public var eosIDs: [Int]
    public var padID: Int?

    public init(
        architecture: GemmaArchitecture, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
        headCount: Int, kvHeadCount: Int, headDim: Int, vocabularySize: Int, rmsNormEps: Float = 1e-6,
        ropeBase: Float = 10000, ropeLocalBase: Float? = nil, slidingWindow: Int? = nil,
        slidingLayers: [Bool]? = nil, attentionScale: Float? = nil, attentionSoftcap: Float? = nil,
        finalLogitSoftcap: Float? = nil, contextLength: Int = 8192, bosID: Int = 2, eosIDs: [Int] = [1],
        padID: Int? = 0
    ) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.vocabularySize = vocabularySize
        self.rmsNormEps = rmsNormEps
        self.ropeBase = ropeBase
        self.ropeLocalBase = ropeLocalBase ?? ropeBase
        self.slidingWindow = slidingWindow
        self.slidingLayers = slidingLayers ?? GemmaConfig.defaultSlidingLayers(
            architecture, layerCount: layerCount, hasWindow: slidingWindow != nil)
        self.attentionScale = attentionScale ?? 1 / Float(headDim).squareRoot()
        self.attentionSoftcap = attentionSoftcap
        self.finalLogitSoftcap = finalLogitSoftcap
        self.contextLength = contextLength
        self.bosID = bosID
        self.eosIDs = eosIDs
        self.padID = padID
    }

    /// Gemma 2 slides on even layers (0, 2, …); Gemma 3 on five of every six (global iff
    /// (i+1) % 6 == 0); Gemma 1 never.
    public static func defaultSlidingLayers(
        _ arch: GemmaArchitecture, layerCount: Int, hasWindow: Bool
    ) -> [Bool] {
        (0..<layerCount).map { i in
            guard hasWindow else { return false }
            switch arch {
            case .gemma: return false
            case .gemma2: return i % 2 == 0
            case .gemma3: return (i + 1) % 6 != 0
            }
        }
    }

    /// The fewest tensors a layer stores (Gemma 1: two norms and seven linear layers; Gemma 2 and 3
    /// add norms).
    public static let minimumTensorsPerLayer = 9

    /// Refuses a layer count the checkpoint's `tensorCount` tensors cannot hold, before anything is
    /// allocated per layer: a header saying 2^32−1 layers must be an error naming `key`, not an
    /// allocation failure. The weights loader then names the first missing tensor of a count that
    /// passes here.
    public static func checkLayerCount(_ layers: Int, key: String, tensorCount: Int, source: String) throws {
        guard layers > 0 else {
            throw GemmaError.invalidConfig(source: source, message: "'\(key)' is \(layers), expected a positive layer count")
        }
        guard layers <= tensorCount / minimumTensorsPerLayer else {
            throw GemmaError.invalidConfig(
                source: source,
                message: "'\(key)' says \(layers) layers, but the checkpoint has only \(tensorCount) tensors "
                    + "(each layer needs at least \(minimumTensorsPerLayer))")
        }
    }

    /// Checks the numbers fit together, so that a malformed file fails at load, not mid-forward.
    public func validate(source: String) throws {
        func bad(_ m: String) -> GemmaError { .invalidConfig(source: source, message: m) }
        for (name, v) in [("hidden size", hiddenSize), ("intermediate size", intermediateSize),
                          ("layer count", layerCount), ("head count", headCount),
                          ("KV head count", kvHeadCount), ("head dim", headDim),
                          ("vocabulary size", vocabularySize), ("context length", contextLength)] where v <= 0 {
            throw bad("\(name) must be positive, got \(v)")
        }
        if headCount % kvHeadCount != 0 {
            throw bad("head count \(headCount) is not a multiple of KV head count \(kvHeadCount)")
        }
        if headDim % 2 != 0 { throw bad("head dim \(headDim) must be even for RoPE") }
        if slidingLayers.count != layerCount {
            throw bad("sliding-layer pattern has \(slidingLayers.count) entries for \(layerCount) layers")
        }
        if let w = slidingWindow, w <= 0 { throw bad("sliding window must be positive, got \(w)") }
        for (name, v) in [("rms_norm_eps", rmsNormEps), ("rope base", ropeBase), ("local rope base", ropeLocalBase),
                          ("attention scale", attentionScale)] where !(v > 0 && v.isFinite) {
            throw bad("\(name) must be a positive finite number, got \(v)")
        }
        for (name, v) in [("attention softcap", attentionSoftcap), ("final logit softcap", finalLogitSoftcap)] {
            if let v, !(v > 0 && v.isFinite) { throw bad("\(name) must be a positive finite number, got \(v)") }
        }
    }
}
