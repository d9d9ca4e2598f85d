/// Hyperparameters of an ORPO run. Defaults are TRL's ORPOConfig and HF TrainingArguments'
/// (docs/orpo.md, "Defaults"), except where noted; every field can be read from a JSON file
/// (snake_case keys).
public struct ORPOTrainingSettings: Codable, Sendable, Equatable {
    /// Weight of the odds-ratio term.
    public var beta: Double = 0.1
    public var learningRate: Double = 1e-6
    /// Pairs per forward pass (micro-batch).
    public var batchSize: Int = 8
    /// Micro-batches whose gradients add up before one optimizer step.
    public var gradientAccumulationSteps: Int = 1
    public var epochs: Int = 1
    public var warmupRatio: Double = 0
    /// 0 disables clipping.
    public var maxGradNorm: Double = 1
    /// Longest prompt + response in tokens; longer responses are truncated.
    public var maxLength: Int = 1024
    /// Seeds the shuffling of pairs and a fresh adapter's initialisation.
    public var seed: UInt64 = 42
    public var optimizer = AdamWSettings()
    /// What the NLL term covers (not a TRL setting; TRL's is `.sequence`).
    public var nllScope: NLLScope = .sequence
    /// How a micro-batch's pairs are laid out (not a TRL setting; TRL's is `.separate`): `.shared`
    /// runs each pair's prompt once for both responses, `.prefix` also the tokens all pairs of a
    /// micro-batch begin with once for all of them, with the same loss and gradients.
    public var pairLayout: PairLayout = .shared

    public init() {}

    enum CodingKeys: String, CodingKey {
        case beta, learningRate = "learning_rate", batchSize = "batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps", epochs, warmupRatio = "warmup_ratio"
        case maxGradNorm = "max_grad_norm", maxLength = "max_length", seed, optimizer, nllScope = "nll_scope"
        case pairLayout = "pair_layout"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ORPOTrainingSettings()
        beta = try c.decodeIfPresent(Double.self, forKey: .beta) ?? d.beta
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        gradientAccumulationSteps = try c.decodeIfPresent(Int.self, forKey: .gradientAccumulationSteps) ?? d.gradientAccumulationSteps
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        warmupRatio = try c.decodeIfPresent(Double.self, forKey: .warmupRatio) ?? d.warmupRatio
        maxGradNorm = try c.decodeIfPresent(Double.self, forKey: .maxGradNorm) ?? d.maxGradNorm
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        optimizer = try c.decodeIfPresent(AdamWSettings.self, forKey: .optimizer) ?? d.optimizer
        nllScope = try c.decodeIfPresent(NLLScope.self, forKey: .nllScope) ?? d.nllScope
        pairLayout = try c.decodeIfPresent(PairLayout.self, forKey: .pairLayout) ?? d.pairLayout
    }

    /// Throws naming the first setting out of range.
    public func validate() throws {
        func bad(_ key: String, _ message: String) -> TrainingError { .invalidArgument("\(key): \(message)") }
        guard beta >= 0, beta.isFinite else { throw bad("beta", "must be a non-negative number") }
        guard learningRate >= 0, learningRate.isFinite else { throw bad("learning_rate", "must be a non-negative number") }
        guard batchSize > 0 else { throw bad("batch_size", "must be positive") }
        guard gradientAccumulationSteps > 0 else { throw bad("gradient_accumulation_steps", "must be positive") }
        guard epochs > 0 else { throw bad("epochs", "must be positive") }
        guard (0...1).contains(warmupRatio) else { throw bad("warmup_ratio", "must be between 0 and 1") }
        guard maxGradNorm >= 0 else { throw bad("max_grad_norm", "must be non-negative") }
        guard maxLength > 1 else { throw bad("max_length", "must be at least 2") }
        let o = optimizer
        guard (0..<1).contains(o.beta1), (0..<1).contains(o.beta2) else { throw bad("optimizer", "betas must lie in [0, 1)") }
        guard o.epsilon > 0, o.weightDecay >= 0 else { throw bad("optimizer", "epsilon must be positive, weight_decay non-negative") }
    }
}
