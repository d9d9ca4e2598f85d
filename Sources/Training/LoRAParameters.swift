import Adapters
import Gemma

/// The trainable factors of one LoRA-adapted linear layer and their gradients (docs/peft.md,
/// "Shapes and scaling"): A [r, in], B [out, r], delta W = scale · B A, as PEFT stores them
/// (row-major, PyTorch order).
public final class LoRAParameters: @unchecked Sendable {
    public let rank: Int
    public let inFeatures: Int
    public let outFeatures: Int
    /// lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.
    public let scale: Float
    public let a: FloatBuffer
    public let b: FloatBuffer
    public let gradA: FloatBuffer
    public let gradB: FloatBuffer

    public init(rank: Int, inFeatures: Int, outFeatures: Int, scale: Float, a: [Float], b: [Float]) throws {
        guard rank > 0, a.count == rank * inFeatures, b.count == outFeatures * rank else {
            throw TrainingError.invalidArgument(
                "LoRA factors of rank \(rank) for [\(outFeatures), \(inFeatures)] need A of \(rank * inFeatures) and B of \(outFeatures * rank) values, got \(a.count) and \(b.count)")
        }
        self.rank = rank
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.scale = scale
        self.a = FloatBuffer(a)
        self.b = FloatBuffer(b)
        gradA = FloatBuffer(count: a.count)
        gradB = FloatBuffer(count: b.count)
    }

    /// PEFT's initialisation: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform with a = sqrt(5)),
    /// B = 0, so the adapted model starts equal to the base model.
    public static func initialized<G: RandomNumberGenerator>(
        rank: Int, inFeatures: Int, outFeatures: Int, scale: Float, using generator: inout G
    ) throws -> LoRAParameters {
        let bound = 1 / Float(inFeatures).squareRoot()
        let a = (0..<(rank * inFeatures)).map { _ in Float.random(in: -bound..<bound, using: &generator) }
        return try LoRAParameters(rank: rank, inFeatures: inFeatures, outFeatures: outFeatures, scale: scale,
                                  a: a, b: [Float](repeating: 0, count: outFeatures * rank))
    }

    /// Trainable copies of `weights`' factors, gradients zero.
    public convenience init(_ weights: LoRAWeights) throws {
        try self.init(rank: weights.rank, inFeatures: weights.inFeatures, outFeatures: weights.outFeatures,
                      scale: weights.scale, a: weights.a, b: weights.b)
    }

    /// The current factors as plain arrays, without gradients.
    public var weights: LoRAWeights { LoRAWeights(rank: rank, a: a.array, b: b.array, scale: scale) }

    public func zeroGradients() {
        gradA.zero()
        gradB.zero()
    }
}
