import Gemma

/// A LoRA factor's tensor name in `adapter_model.safetensors`, parsed into layer, role and factor.
///
/// PEFT names a factor after the module path it adapts: `base_model.model.` + the model's own path
/// to the layers + `{i}.{self_attn|mlp}.{module}.lora_{A|B}.weight`. The path to the layers depends
/// on the class the adapter was trained on: `model.layers.` for Gemma3ForCausalLM, and for
/// multimodal Gemma 3 (Gemma3ForConditionalGeneration) `model.language_model.layers.`
/// (transformers ≥ 4.52) or `language_model.model.layers.` (earlier). Adapters saved while still
/// attached to a model carry their adapter name before `.weight` (`lora_A.default.weight`). All of
/// these are read the same.
public struct PEFTTensorName: Hashable, Sendable {
    public let layer: Int
    public let role: LayerTensor
    /// "A" or "B".
    public let factor: String

    public init(layer: Int, role: LayerTensor, factor: String) {
        self.layer = layer
        self.role = role
        self.factor = factor
    }

    /// The module paths (after `base_model.model.`) that lead to the decoder layers.
    public static let layerPaths = ["model.layers.", "model.language_model.layers.", "language_model.model.layers."]

    /// Parses `name`; nil when it is not a LoRA factor of one of Gemma's linear layers.
    public init?(_ name: String) {
        let root = "base_model.model."
        guard name.hasPrefix(root) else { return nil }
        let path = name.dropFirst(root.count)
        guard let layers = Self.layerPaths.first(where: { path.hasPrefix($0) }) else { return nil }
        let parts = path.dropFirst(layers.count).split(separator: ".", omittingEmptySubsequences: false)
        // {i} {block} {module} lora_{A|B} [adapter name] weight
        guard parts.count == 5 || parts.count == 6, parts.last == "weight",
              let i = Int(parts[0]), i >= 0,
              let role = LayerTensor(peftModule: String(parts[2])),
              parts[1] == (role == .gate || role == .up || role == .down ? "mlp" : "self_attn"),
              parts[3] == "lora_A" || parts[3] == "lora_B" else { return nil }
        self.init(layer: i, role: role, factor: String(parts[3].dropFirst("lora_".count)))
    }

    /// Maps every factor in `names` to its stored name, refusing what does not fit the adapter's
    /// configuration or the model: tensors that are not LoRA factors of Gemma's linear layers
    /// (biases, embeddings, modules_to_save), modules missing from `target_modules`, layers the
    /// model does not have, and factors stored twice. Errors name `path` and the tensor.
    public static func index(_ names: [String], path: String, roles: [LayerTensor], layerCount: Int) throws -> [PEFTTensorName: String] {
        var index: [PEFTTensorName: String] = [:]
        for name in names {
            guard let parsed = PEFTTensorName(name) else {
                throw AdapterError.file(
                    path: path, message: "tensor '\(name)' is not a LoRA factor of a Gemma linear layer (q/k/v/o/gate/up/down_proj lora_A/lora_B)")
            }
            guard parsed.layer < layerCount else {
                throw AdapterError.file(
                    path: path, message: "tensor '\(name)' is for layer \(parsed.layer), but the model has \(layerCount) layers")
            }
            guard roles.contains(parsed.role) else {
                throw AdapterError.file(
                    path: path, message: "tensor '\(name)' adapts \(parsed.role.peftModule ?? parsed.role.rawValue), which target_modules does not list")
            }
            if let other = index.updateValue(name, forKey: parsed) {
                throw AdapterError.file(path: path, message: "tensors '\(other)' and '\(name)' hold the same factor")
            }
        }
        return index
    }
}
