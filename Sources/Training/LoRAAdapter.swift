import Adapters
import Gemma

/// A LoRA adapter being trained, over every layer of a Gemma model: its PEFT configuration and,
/// per layer, the factors of each adapted linear layer with their gradients. PEFTAdapter (the
/// Adapters library) is the same adapter without gradients, as files and GemmaModel hold it.
public final class LoRAAdapter: @unchecked Sendable {
    public let config: AdapterConfig
    /// layers[i][role]: the factors of layer i's `role` linear layer, when adapted.
    public let layers: [[LayerTensor: LoRAParameters]]

    public init(config: AdapterConfig, layers: [[LayerTensor: LoRAParameters]]) {
        self.config = config
        self.layers = layers
    }

    /// A fresh adapter with PEFT's initialisation (A uniform, B zero), reproducible from `seed`.
    public static func initialized(config: AdapterConfig, model: GemmaConfig, seed: UInt64) throws -> LoRAAdapter {
        try config.validate()
        let roles = try config.targetRoles()
        var generator = SeededGenerator(seed: seed)
        var layers: [[LayerTensor: LoRAParameters]] = []
        for _ in 0..<model.layerCount {
            var layer: [LayerTensor: LoRAParameters] = [:]
            for role in roles {
                guard let shape = model.linearShape(role) else { continue }
                layer[role] = try LoRAParameters.initialized(
                    rank: config.r, inFeatures: shape.in, outFeatures: shape.out, scale: config.scale,
                    using: &generator)
            }
            layers.append(layer)
        }
        return LoRAAdapter(config: config, layers: layers)
    }

    /// Every adapted layer, in (layer, role) order.
    public var modules: [(layer: Int, role: LayerTensor, parameters: LoRAParameters)] {
        layers.enumerated().flatMap { i, layer in
            LayerTensor.linearRoles.compactMap { role in layer[role].map { (i, role, $0) } }
        }
    }

    public func zeroGradients() { for m in modules { m.parameters.zeroGradients() } }

    /// Total trainable values.
    public var parameterCount: Int { modules.reduce(0) { $0 + $1.parameters.a.count + $1.parameters.b.count } }

    /// Checks the adapter fits `model`: one entry per layer, factors of the right shapes.
    public func check(fits model: GemmaConfig) throws {
        guard layers.count == model.layerCount else {
            throw TrainingError.invalidArgument("the adapter has \(layers.count) layers, the model \(model.layerCount)")
        }
        for m in modules {
            guard let shape = model.linearShape(m.role),
                  m.parameters.inFeatures == shape.in, m.parameters.outFeatures == shape.out else {
                throw TrainingError.invalidArgument(
                    "layer \(m.layer) \(m.role.peftModule ?? m.role.rawValue): LoRA factors for [\(m.parameters.outFeatures), \(m.parameters.inFeatures)] do not fit the model")
            }
        }
    }
}
