import Foundation
import Gemma

extension PEFTAdapter {
    /// One adapter weighted in a combination: its update scale · B A counts `weight` times.
    public struct Weighted: Sendable {
        public var adapter: PEFTAdapter
        public var weight: Double
        public init(_ adapter: PEFTAdapter, weight: Double) {
            self.adapter = adapter
            self.weight = weight
        }
    }

    /// The adapter whose update to every weight is exactly Σ wᵢ · scaleᵢ · Bᵢ Aᵢ (docs/peft.md,
    /// "Combining adapters"): the factors are stacked, A's rows and B's columns, each side scaled by
    /// √|wᵢ · scaleᵢ| (B's also by the sign), so the result has rank Σ rᵢ and scale 1 (lora_alpha = r).
    /// A module one adapter does not adapt gets zero factors in its place, so every layer adapts the
    /// union of the target modules. The adapters must fit the same model (the same shapes).
    public static func combine(_ parts: [Weighted]) throws -> PEFTAdapter {
        guard let first = parts.first else { throw AdapterError.invalidArgument("nothing to combine: give at least one adapter") }
        guard parts.allSatisfy({ $0.weight.isFinite }) else {
            throw AdapterError.invalidArgument("a combination weight is not a finite number")
        }
        let layerCount = first.adapter.layers.count
        guard parts.allSatisfy({ $0.adapter.layers.count == layerCount }) else {
            throw AdapterError.invalidArgument(
                "the adapters adapt different numbers of layers (\(parts.map { $0.adapter.layers.count })): they were trained for different models")
        }
        let ranks = parts.map { $0.adapter.config.r }
        let rank = ranks.reduce(0, +)
        // The union of the roles adapted anywhere, in the order the model lists them.
        var roles = Set<LayerTensor>()
        for p in parts { for m in p.adapter.modules { roles.insert(m.role) } }
        let order = LayerTensor.linearRoles.filter(roles.contains)

        var layers: [[LayerTensor: LoRAWeights]] = Array(repeating: [:], count: layerCount)
        for i in 0..<layerCount {
            for role in order {
                // Every adapter that adapts this module must agree on its shape.
                let present = parts.compactMap { $0.adapter.layers[i][role] }
                let inFeatures = present[0].inFeatures, outFeatures = present[0].outFeatures
                guard present.allSatisfy({ $0.inFeatures == inFeatures && $0.outFeatures == outFeatures }) else {
                    throw AdapterError.invalidArgument(
                        "layer \(i) \(role.peftModule ?? role.rawValue): the adapters' factors have different shapes; they were trained for different models")
                }
                var a = [Float](repeating: 0, count: rank * inFeatures)
                var b = [Float](repeating: 0, count: outFeatures * rank)
                var offset = 0
                for (p, r) in zip(parts, ranks) {
                    defer { offset += r }
                    guard let f = p.adapter.layers[i][role] else { continue }  // zeros: no update
                    let product = p.weight * Double(f.scale)
                    let side = Float(product.magnitude.squareRoot())
                    let sign: Float = product < 0 ? -1 : 1
                    // A: rows offset ..< offset + r.
                    for k in 0..<(r * inFeatures) { a[offset * inFeatures + k] = side * f.a[k] }
                    // B: columns offset ..< offset + r of each row.
                    for row in 0..<outFeatures {
                        for c in 0..<r { b[row * rank + offset + c] = sign * side * f.b[row * r + c] }
                    }
                }
                layers[i][role] = LoRAWeights(rank: rank, a: a, b: b, scale: 1)
            }
        }
        var config = first.adapter.config
        config.r = rank
        config.loraAlpha = Double(rank)
        config.useRslora = false
        config.targetModules = order.compactMap(\.peftModule)
        return PEFTAdapter(config: config, layers: layers)
    }
}
