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
    /// A part of weight 0 adds nothing and is left out. A module one adapter does not adapt gets zero
    /// factors in its place, so every layer adapts the union of the target modules. The adapters must
    /// fit the same model (the same shapes), and the result must be one an adapter reader accepts
    /// (every update within `largestUpdate`), or the combination is refused.
    public static func combine(_ parts: [Weighted]) throws -> PEFTAdapter {
        guard !parts.isEmpty else { throw AdapterError.invalidArgument("nothing to combine: give at least one adapter") }
        for p in parts where !p.weight.isFinite {
            throw AdapterError.invalidArgument("the combination weight \(p.weight) is not a finite number")
        }
        let used = parts.filter { $0.weight != 0 }
        guard let first = used.first else { throw AdapterError.invalidArgument("every combination weight is 0: the result would change nothing") }
        let layerCount = first.adapter.layers.count
        guard used.allSatisfy({ $0.adapter.layers.count == layerCount }) else {
            throw AdapterError.invalidArgument(
                "the adapters adapt different numbers of layers (\(used.map { $0.adapter.layers.count })): they were trained for different models")
        }
        let ranks = used.map { $0.adapter.config.r }
        let rank = ranks.reduce(0, +)
        // The union of the roles adapted anywhere, in the order the model lists them.
        var roles = Set<LayerTensor>()
        for p in used { for m in p.adapter.modules { roles.insert(m.role) } }
        let order = LayerTensor.linearRoles.filter(roles.contains)

        var layers: [[LayerTensor: LoRAWeights]] = Array(repeating: [:], count: layerCount)
        for i in 0..<layerCount {
            for role in order {
                let module = "layer \(i) \(role.peftModule ?? role.rawValue)"
                // Every adapter that adapts this module must agree on its shape, and on its rank.
                let present = used.compactMap { $0.adapter.layers[i][role] }
                guard let reference = present.first else {
                    throw AdapterError.invalidArgument("\(module): adapted in some layers only; an adapter adapts a module in every layer")
                }
                let inFeatures = reference.inFeatures, outFeatures = reference.outFeatures
                guard present.allSatisfy({ $0.inFeatures == inFeatures && $0.outFeatures == outFeatures }) else {
                    throw AdapterError.invalidArgument(
                        "\(module): the adapters' factors have different shapes; they were trained for different models")
                }
                var a = [Float](repeating: 0, count: rank * inFeatures)
                var b = [Float](repeating: 0, count: outFeatures * rank)
                var offset = 0
                for (p, r) in zip(used, ranks) {
                    defer { offset += r }
                    guard let f = p.adapter.layers[i][role] else { continue }  // zeros: no update
                    guard f.rank == r else {
                        throw AdapterError.invalidArgument("\(module): factors of rank \(f.rank) in an adapter of rank \(r)")
                    }
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
                let combined = LoRAWeights(rank: rank, a: a, b: b, scale: 1)
                if let problem = updateProblem(combined) {
                    throw AdapterError.invalidArgument("\(module) of the combination: \(problem); use smaller weights")
                }
                layers[i][role] = combined
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
