import ModelFormats
import TensorKit

/// How a checkpoint names Gemma's tensors: llama.cpp's GGUF names (`blk.3.attn_q.weight`) or
/// Hugging Face's (`model.layers.3.self_attn.q_proj.weight`, possibly under a prefix such as
/// `language_model.` in multimodal Gemma 3 checkpoints).
public enum TensorNaming: Sendable, Equatable {
    case gguf
    case huggingFace(prefix: String)

    /// Whether RMSNorm weights are stored as w (HF) or already as 1 + w (llama.cpp's converter).
    var normStoresOnePlusW: Bool { self == .gguf }

    public func embedding() -> String {
        switch self {
        case .gguf: return "token_embd.weight"
        case .huggingFace(let p): return p + "model.embed_tokens.weight"
        }
    }

    public func outputNorm() -> String {
        switch self {
        case .gguf: return "output_norm.weight"
        case .huggingFace(let p): return p + "model.norm.weight"
        }
    }

    public func output() -> String {
        switch self {
        case .gguf: return "output.weight"
        case .huggingFace(let p): return p + "lm_head.weight"
        }
    }

    /// The name of a per-layer tensor. `role` is the GGUF spelling.
    public func layer(_ i: Int, _ role: LayerTensor, architecture: GemmaArchitecture) -> String {
        switch self {
        case .gguf:
            return "blk.\(i).\(role.rawValue).weight"
        case .huggingFace(let p):
            let base = p + "model.layers.\(i)."
            switch role {
            case .attnNorm: return base + "input_layernorm.weight"
            case .q: return base + "self_attn.q_proj.weight"
            case .k: return base + "self_attn.k_proj.weight"
            case .v: return base + "self_attn.v_proj.weight"
            case .o: return base + "self_attn.o_proj.weight"
            case .qNorm: return base + "self_attn.q_norm.weight"
            case .kNorm: return base + "self_attn.k_norm.weight"
            // Gemma 1 has two norms per layer and calls the pre-MLP one post_attention_layernorm;
            // Gemma 2 and 3 use that name for the norm after attention.
            case .postAttnNorm: return base + "post_attention_layernorm.weight"
            case .ffnNorm:
                return base + (architecture == .gemma
                    ? "post_attention_layernorm.weight" : "pre_feedforward_layernorm.weight")
            case .postFfnNorm: return base + "post_feedforward_layernorm.weight"
            case .gate: return base + "mlp.gate_proj.weight"
            case .up: return base + "mlp.up_proj.weight"
            case .down: return base + "mlp.down_proj.weight"
            }
        }
    }
}

/// Per-layer tensors, spelled as GGUF spells them.
public enum LayerTensor: String, CaseIterable, Sendable {
    case attnNorm = "attn_norm"
    case q = "attn_q", k = "attn_k", v = "attn_v", o = "attn_output"
    case qNorm = "attn_q_norm", kNorm = "attn_k_norm"
    case postAttnNorm = "post_attention_norm"
    case ffnNorm = "ffn_norm"
    case postFfnNorm = "post_ffw_norm"
    case gate = "ffn_gate", up = "ffn_up", down = "ffn_down"

    /// The seven linear layers (the ones LoRA can adapt), in PEFT's usual order.
    public static let linearRoles: [LayerTensor] = [.q, .k, .v, .o, .gate, .up, .down]

    /// PEFT's module name for a linear layer (`q_proj` …), nil for norms.
    public var peftModule: String? {
        switch self {
        case .q: return "q_proj"
        case .k: return "k_proj"
        case .v: return "v_proj"
        case .o: return "o_proj"
        case .gate: return "gate_proj"
        case .up: return "up_proj"
        case .down: return "down_proj"
        default: return nil
        }
    }
}

/// A linear layer y = W x (+ a LoRA delta s·B(A x) when an adapter is applied without merging).
public struct Linear: @unchecked Sendable {
    public let weight: QuantizedMatrix
    public var lora: LoRAWeights?

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }
}

/// LoRA factors of one linear layer (docs/peft.md, "Shapes and scaling"): A [r, in], B [out, r],
/// delta = scale · B A.
public struct LoRAWeights: Sendable {
    public var rank: Int
    public var a: [Float]
    public var b: [Float]
    public var scale: Float

    public init(rank: Int, a: [Float], b: [Float], scale: Float) {
        self.rank = rank
        self.a = a
        self.b = b
        self.scale = scale
    }
}

public struct GemmaLayerWeights: Sendable {
    public var attnNorm: [Float]
    public var q: Linear, k: Linear, v: Linear, o: Linear
    public var qNorm: [Float]?, kNorm: [Float]?
    public var postAttnNorm: [Float]?
    public var ffnNorm: [Float]
    public var postFfnNorm: [Float]?
    public var gate: Linear, up: Linear, down: Linear

    public subscript(linear role: LayerTensor) -> Linear? {
        get {
            switch role {
            case .q: return q
            case .k: return k
            case .v: return v
            case .o: return o
            case .gate: return gate
            case .up: return up
            case .down: return down
            default: return nil
            }
        }
        set {
            guard let newValue else { return }
            switch role {
            case .q: q = newValue
            case .k: k = newValue
            case .v: v = newValue
            case .o: o = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            default: break
            }
        }
    }
}

/// All weights of a Gemma model, checked against the configuration at load.
public struct GemmaWeights: @unchecked Sendable {
    public var embedding: QuantizedMatrix      // [vocab, hidden]
    public var output: QuantizedMatrix         // [vocab, hidden]; the tied embedding unless stored
    public var outputNorm: [Float]
    public var layers: [GemmaLayerWeights]
    /// Keeps the mapped files or buffers the weights point into alive.
    let sources: [TensorSource]

    /// Loads and checks every tensor the configuration needs from `source`, named as `naming` says.
    public init(config c: GemmaConfig, from source: TensorSource, name src: String, naming: TensorNaming) throws {
        let names = Set(source.tensorNames)
        try GemmaConfig.checkLayerCount(c.layerCount, key: "layer count", tensorCount: names.count, source: src)

        func raw(_ name: String) throws -> RawTensor {
            guard names.contains(name) else { throw GemmaError.missingTensor(source: src, name: name) }
            return try source.rawTensor(name)
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> QuantizedMatrix {
            let t = try raw(name)
            guard t.shape == [rows, cols] else {
                throw GemmaError.tensorShape(source: src, name: name, expected: [rows, cols], found: t.shape)
            }
            do {
                return try QuantizedMatrix(type: t.type, rows: rows, cols: cols, data: t.data)
            } catch {
                throw GemmaError.unsupportedTensorType(source: src, name: name, type: "\(t.type)")
            }
        }
        func linear(_ name: String, out: Int, in inF: Int) throws -> Linear {
            Linear(weight: try matrix(name, rows: out, cols: inF), lora: nil)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let t = try raw(name)
            guard t.elementCount == count, t.shape.count == 1 else {
                throw GemmaError.tensorShape(source: src, name: name, expected: [count], found: t.shape)
            }
            let m: QuantizedMatrix
            do {
                m = try QuantizedMatrix(type: t.type, rows: 1, cols: count, data: t.data)
            } catch {
                throw GemmaError.unsupportedTensorType(source: src, name: name, type: "\(t.type)")
            }
            var v = [Float](repeating: 0, count: count)
            v.withUnsafeMutableBufferPointer { m.dequantizeRow(0, into: $0.baseAddress!) }
            let nonFinite = v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            guard nonFinite == 0 else {
                throw GemmaError.invalidConfig(
                    source: src, message: "tensor '\(name)' holds \(nonFinite) non-finite values (NaN or infinity); the file is corrupt")
            }
            if !naming.normStoresOnePlusW { for j in 0..<count { v[j] += 1 } }
            return v
        }
        let h = c.hiddenSize, hd = c.headDim
        embedding = try matrix(naming.embedding(), rows: c.vocabularySize, cols: h)
        if names.contains(naming.output()) {
            output = try matrix(naming.output(), rows: c.vocabularySize, cols: h)
        } else {
            output = embedding
        }
        outputNorm = try vector(naming.outputNorm(), count: h)

        let post = c.architecture != .gemma
        let qkNorm = c.architecture == .gemma3
        var layers: [GemmaLayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for i in 0..<c.layerCount {
            func n(_ r: LayerTensor) -> String { naming.layer(i, r, architecture: c.architecture) }
            layers.append(GemmaLayerWeights(
                attnNorm: try vector(n(.attnNorm), count: h),
                q: try linear(n(.q), out: c.headCount * hd, in: h),
                k: try linear(n(.k), out: c.kvHeadCount * hd, in: h),
                v: try linear(n(.v), out: c.kvHeadCount * hd, in: h),
                o: try linear(n(.o), out: h, in: c.headCount * hd),
                qNorm: qkNorm ? try vector(n(.qNorm), count: hd) : nil,
                kNorm: qkNorm ? try vector(n(.kNorm), count: hd) : nil,
                postAttnNorm: post ? try vector(n(.postAttnNorm), count: h) : nil,
                ffnNorm: try vector(n(.ffnNorm), count: h),
                postFfnNorm: post ? try vector(n(.postFfnNorm), count: h) : nil,
                gate: try linear(n(.gate), out: c.intermediateSize, in: h),
                up: try linear(n(.up), out: c.intermediateSize, in: h),
                down: try linear(n(.down), out: h, in: c.intermediateSize)))
        }
        self.layers = layers
        self.sources = [source]
    }
}
