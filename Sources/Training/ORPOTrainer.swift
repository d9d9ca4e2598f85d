import Foundation
import Gemma
import Records

/// One optimizer step's log, with TRL's metric names: what orpo-train writes as a JSONL record.
public struct TrainingLog: Sendable {
    public var step: Int
    /// Fractional epoch at the end of the step, as HF's Trainer logs it.
    public var epoch: Double
    public var loss: Double
    /// Global gradient norm before clipping.
    public var gradNorm: Double
    public var learningRate: Double
    public var metrics: ORPOMetrics
    public var pairs: Int
    public var tokens: Int

    public var record: JSONObject {
        var o = JSONObject([("step", JSONValue(step)), ("epoch", JSONValue(epoch)), ("loss", JSONValue(loss)),
                            ("grad_norm", JSONValue(gradNorm)), ("learning_rate", JSONValue(learningRate))])
        for (name, value) in metrics.named { o[name] = JSONValue(value) }
        o["pairs"] = JSONValue(pairs)
        o["tokens"] = JSONValue(tokens)
        return o
    }
}

/// ORPO training of a LoRA adapter, as TRL's ORPOTrainer runs it under HF's Trainer: shuffled
/// micro-batches of pairs, gradients accumulated (each micro-batch's loss divided by the
/// accumulation count), clipped to max_grad_norm, then one AdamW step at the scheduled rate.
///
/// The shuffle order is this project's own (a seeded generator), not torch's RandomSampler's.
public final class ORPOTrainer: @unchecked Sendable {
    public let model: TrainableGemma
    public let settings: ORPOTrainingSettings
    public let optimizer: AdamW

    public init(model: TrainableGemma, settings: ORPOTrainingSettings) throws {
        try settings.validate()
        self.model = model
        self.settings = settings
        optimizer = AdamW(adapter: model.adapter, settings: settings.optimizer)
    }

    /// Optimizer steps per epoch for `pairCount` pairs (the last micro-batch and step may be short).
    public func stepsPerEpoch(pairCount: Int) -> Int {
        let microBatches = (pairCount + settings.batchSize - 1) / settings.batchSize
        return max(1, (microBatches + settings.gradientAccumulationSteps - 1) / settings.gradientAccumulationSteps)
    }

    /// Trains over `pairs` for the configured epochs, calling `onLog` after every step.
    public func train(_ pairs: [TokenizedPair], onLog: (TrainingLog) throws -> Void) throws {
        guard !pairs.isEmpty else { throw TrainingError.invalidArgument("no training pairs") }
        let perEpoch = stepsPerEpoch(pairCount: pairs.count)
        let schedule = LearningRateSchedule(peak: settings.learningRate, warmupRatio: settings.warmupRatio,
                                            totalSteps: perEpoch * settings.epochs)
        var generator = SeededGenerator(seed: settings.seed)
        for epoch in 0..<settings.epochs {
            let order = pairs.shuffled(using: &generator)
            let microBatches = stride(from: 0, to: order.count, by: settings.batchSize).map {
                Array(order[$0..<min(order.count, $0 + settings.batchSize)])
            }
            for s in 0..<perEpoch {
                let group = microBatches[(s * settings.gradientAccumulationSteps)..<min(
                    microBatches.count, (s + 1) * settings.gradientAccumulationSteps)]
                let stepIndex = optimizer.step
                var log = try step(Array(group), learningRate: schedule.rate(step: stepIndex))
                log.epoch = Double(epoch) + Double(s + 1) / Double(perEpoch)
                try onLog(log)
            }
        }
    }

    /// The seed of micro-batch `k`'s LoRA dropout masks in optimizer step `step` (0-based): a
    /// function of the run's seed and the position alone, so a resumed run draws the masks an
    /// uninterrupted one would.
    public func dropoutSeed(step: Int, microBatch k: Int) -> UInt64 {
        LoRADropout.mix(LoRADropout.mix(settings.seed, UInt64(step)), UInt64(k))
    }

    /// One optimizer step over `microBatches` (pairs each) at `learningRate`.
    public func step(_ microBatches: [[TokenizedPair]], learningRate: Double) throws -> TrainingLog {
        let adapter = model.adapter
        adapter.zeroGradients()
        let scale = 1 / Float(microBatches.count)
        var loss = 0.0, pairCount = 0, tokenCount = 0
        var all: [ORPOMetrics] = []
        for (k, pairs) in microBatches.enumerated() {
            let batch = try PreferenceBatch(pairs: pairs, padID: model.config.padID ?? 0, layout: settings.pairLayout)
            let pass = try model.forward(batch.tokens, dropoutSeed: dropoutSeed(step: optimizer.step, microBatch: k),
                                         lossRows: batch.lossRows(nll: settings.nllScope), headGradient: true)
            let result = try ORPOLoss.evaluate(pass, batch: batch, beta: settings.beta, nll: settings.nllScope)
            try model.backward(pass, dLogProbs: result.dLogProbs.map { $0 * scale })
            loss += result.loss / Double(microBatches.count)
            all.append(result.metrics)
            pairCount += pairs.count
            tokenCount += batch.pairTokens
        }
        guard let metrics = ORPOMetrics.mean(all) else {
            throw TrainingError.invalidArgument("an optimizer step needs at least one micro-batch")
        }
        let gradients = adapter.modules.flatMap { [$0.parameters.gradA, $0.parameters.gradB] }
        let norm = settings.maxGradNorm > 0
            ? GradientClipping.clip(gradients, maxNorm: settings.maxGradNorm)
            : gradients.reduce(0.0) { $0 + $1.norm * $1.norm }.squareRoot()
        guard norm.isFinite, loss.isFinite else {
            throw TrainingError.invalidArgument("the loss or the gradient is not finite (loss \(loss), gradient norm \(norm))")
        }
        optimizer.update(learningRate: learningRate)
        return TrainingLog(step: optimizer.step, epoch: 0, loss: loss, gradNorm: norm, learningRate: learningRate,
                           metrics: metrics, pairs: pairCount, tokens: tokenCount)
    }
}
