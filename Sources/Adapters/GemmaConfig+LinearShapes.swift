import Gemma

extension GemmaConfig {
    /// [out, in] of a layer's linear weight, as PEFT's LoRA factors must fit it; nil for norms.
    public func linearShape(_ role: LayerTensor) -> (out: Int, in: Int)? {
        let q = headCount * headDim, kv = kvHeadCount * headDim
        switch role {
        case .q: return (q, hiddenSize)
        case .k, .v: return (kv, hiddenSize)
        case .o: return (hiddenSize, q)
        case .gate, .up: return (intermediateSize, hiddenSize)
        case .down: return (hiddenSize, intermediateSize)
        default: return nil
        }
    }
}

extension LayerTensor {
    /// The role PEFT calls `module` ("q_proj" …), nil for unknown names.
    public init?(peftModule module: String) {
        guard let role = LayerTensor.linearRoles.first(where: { $0.peftModule == module }) else { return nil }
        self = role
    }
}
