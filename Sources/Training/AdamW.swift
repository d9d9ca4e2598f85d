import Foundation

// AdamW as PyTorch's torch.optim.AdamW computes it (Loshchilov & Hutter, decoupled weight decay):
//   p ← p·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
//   p ← p − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps).

/// Optimizer hyperparameters; the defaults are PyTorch's and TRL's (docs/orpo.md, "Defaults").
public struct AdamWSettings: Codable, Sendable, Equatable {
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    public var weightDecay: Double = 0

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    enum CodingKeys: String, CodingKey {
        case beta1, beta2, epsilon, weightDecay = "weight_decay"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? 0.9
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? 0.999
        epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon) ?? 1e-8
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? 0
    }
}

/// AdamW over a fixed list of parameter buffers and their gradients, with its moment buffers.
public final class AdamW: @unchecked Sendable {
    public let settings: AdamWSettings
    let parameters: [(value: FloatBuffer, gradient: FloatBuffer)]
    let first: [FloatBuffer]
    let second: [FloatBuffer]
    /// Steps taken so far.
    public internal(set) var step = 0

    public init(parameters: [(value: FloatBuffer, gradient: FloatBuffer)], settings: AdamWSettings = AdamWSettings()) {
        self.parameters = parameters
        self.settings = settings
        first = parameters.map { FloatBuffer(count: $0.value.count) }
        second = parameters.map { FloatBuffer(count: $0.value.count) }
    }

    /// Every factor of `adapter`, A then B per module.
    public convenience init(adapter: LoRAAdapter, settings: AdamWSettings = AdamWSettings()) {
        self.init(parameters: adapter.modules.flatMap { m in
            [(m.parameters.a, m.parameters.gradA), (m.parameters.b, m.parameters.gradB)]
        }, settings: settings)
    }

    /// One update with learning rate `lr` from the current gradients.
    public func update(learningRate lr: Double) {
        step += 1
        let s = settings, t = Double(step)
        let stepSize = Float(lr / (1 - pow(s.beta1, t)))
        let correction2 = Float((1 - pow(s.beta2, t)).squareRoot())
        let decay = Float(1 - lr * s.weightDecay)
        let b1 = Float(s.beta1), b2 = Float(s.beta2), eps = Float(s.epsilon)
        for (i, p) in parameters.enumerated() {
            let w = p.value.pointer, g = p.gradient.pointer, m = first[i].pointer, v = second[i].pointer
            for j in 0..<p.value.count {
                if decay != 1 { w[j] *= decay }
                m[j] = b1 * m[j] + (1 - b1) * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                w[j] -= stepSize * m[j] / (v[j].squareRoot() / correction2 + eps)
            }
        }
    }
}
