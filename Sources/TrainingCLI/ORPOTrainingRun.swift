import Foundation
import Gemma
import Records
import Training

/// The schedule, logging, evaluation and checkpointing around ORPOTrainer's optimizer steps, as
/// HF's Trainer runs them for TRL: an epoch's pairs in a seeded shuffled order, micro-batches of
/// `batch_size` with `gradient_accumulation_steps` per step, `max_steps` overriding the epochs,
/// and records averaged over each logging interval.
///
/// The data order comes from one SeededGenerator shuffling the pair indices once per epoch, as
/// ORPOTrainer.train does, so a run here and a `train` call see the same batches.
public final class ORPOTrainingRun {
    public struct Plan: Sendable {
        public var maxSteps: Int?
        public var warmupSteps: Int?
        public var logEvery = 1
        /// 0: evaluate only at the end.
        public var evalEvery = 0
        /// 0: no checkpoints.
        public var saveEvery = 0
        public var checkpointDirectory: String?

        public init() {}
    }

    public let trainer: ORPOTrainer
    public let plan: Plan
    public let pairs: [TokenizedPair]
    public let evaluationPairs: [TokenizedPair]
    /// Receives every record (stdout in the tool).
    let emit: (JSONObject) throws -> Void
    /// A status line for a terminal, or nil.
    let progress: ((String) -> Void)?

    public init(trainer: ORPOTrainer, plan: Plan, pairs: [TokenizedPair], evaluationPairs: [TokenizedPair] = [],
                emit: @escaping (JSONObject) throws -> Void, progress: ((String) -> Void)? = nil) throws {
        guard !pairs.isEmpty else { throw TrainingError.invalidArgument("no training pairs") }
        guard plan.logEvery > 0 else { throw TrainingError.invalidArgument("log-every: must be positive") }
        guard plan.evalEvery >= 0, plan.saveEvery >= 0 else {
            throw TrainingError.invalidArgument("eval-every and save-every: must not be negative")
        }
        if let m = plan.maxSteps, m <= 0 { throw TrainingError.invalidArgument("max-steps: must be positive") }
        if let w = plan.warmupSteps, w < 0 { throw TrainingError.invalidArgument("warmup-steps: must not be negative") }
        if plan.saveEvery > 0, plan.checkpointDirectory == nil {
            throw TrainingError.invalidArgument("save-every needs --checkpoint-dir")
        }
        self.trainer = trainer
        self.plan = plan
        self.pairs = pairs
        self.evaluationPairs = evaluationPairs
        self.emit = emit
        self.progress = progress
    }

    var settings: ORPOTrainingSettings { trainer.settings }
    var stepsPerEpoch: Int { trainer.stepsPerEpoch(pairCount: pairs.count) }
    /// HF's rule: max_steps if given, else epochs × steps per epoch.
    public var totalSteps: Int { plan.maxSteps ?? stepsPerEpoch * settings.epochs }

    public var schedule: LearningRateSchedule {
        if let w = plan.warmupSteps {
            return LearningRateSchedule(peak: settings.learningRate, warmupSteps: w, totalSteps: totalSteps)
        }
        return LearningRateSchedule(peak: settings.learningRate, warmupRatio: settings.warmupRatio, totalSteps: totalSteps)
    }

    /// A fresh run's starting point.
    public func start() -> TrainingProgress {
        TrainingProgress(step: 0, epoch: 0, stepInEpoch: 0, order: [], seed: settings.seed, shuffles: 0,
                         pairCount: pairs.count, dataFingerprint: TrainingProgress.fingerprint(pairs),
                         totalSteps: totalSteps, batchSize: settings.batchSize,
                         gradientAccumulationSteps: settings.gradientAccumulationSteps)
    }

    /// Refuses to continue a checkpoint made with other data or settings: the result would match
    /// no uninterrupted run.
    public func checkResumable(_ saved: TrainingProgress) throws {
        let fresh = start()
        let checks: [(String, String, String)] = [
            ("pairs", "\(saved.pairCount)", "\(fresh.pairCount)"),
            ("data", "\(saved.dataFingerprint)", "\(fresh.dataFingerprint)"),
            ("seed", "\(saved.seed)", "\(fresh.seed)"),
            ("total steps", "\(saved.totalSteps)", "\(fresh.totalSteps)"),
            ("batch_size", "\(saved.batchSize)", "\(fresh.batchSize)"),
            ("gradient_accumulation_steps", "\(saved.gradientAccumulationSteps)", "\(fresh.gradientAccumulationSteps)"),
        ]
        for (name, was, now) in checks where was != now {
            throw TrainingError.invalidArgument("cannot resume: the checkpoint was made with \(name) \(was), this run has \(now)")
        }
        guard saved.order.count == pairs.count || saved.stepInEpoch == 0, saved.step <= saved.totalSteps else {
            throw TrainingError.invalidArgument("cannot resume: the checkpoint's trainer state is inconsistent")
        }
    }

    /// Trains from `from` (a fresh start or a checkpoint's progress) to the last step.
    public func run(from initial: TrainingProgress) throws {
        var state = initial
        var generator = SeededGenerator(seed: state.seed)
        var indices = Array(0..<pairs.count)
        for _ in 0..<state.shuffles { indices.shuffle(using: &generator) }
        let schedule = self.schedule, total = totalSteps, perEpoch = stepsPerEpoch
        var window: [TrainingLog] = [], windowTokens = 0, windowStart = Date()

        while state.step < total {
            if state.stepInEpoch == 0 {
                indices = Array(0..<pairs.count)
                indices.shuffle(using: &generator)
                state.order = indices
                state.shuffles += 1
            }
            let log = try trainer.step(microBatches(state), learningRate: schedule.rate(step: state.step))
            state.step = log.step
            state.stepInEpoch += 1
            let epoch = Double(state.epoch) + Double(state.stepInEpoch) / Double(perEpoch)
            if state.stepInEpoch == perEpoch {
                state.epoch += 1
                state.stepInEpoch = 0
            }
            window.append(log)
            windowTokens += log.tokens
            let last = state.step == total
            if state.step % plan.logEvery == 0 || last {
                let seconds = Date().timeIntervalSince(windowStart)
                try emit(record(window, epoch: epoch, tokensPerSecond: seconds > 0 ? Double(windowTokens) / seconds : 0))
                progress?("step \(state.step)/\(total) epoch \(String(format: "%.2f", epoch)) loss \(String(format: "%.4f", log.loss)) \(Int(Double(windowTokens) / max(seconds, 1e-9))) tok/s")
                window = []
                windowTokens = 0
                windowStart = Date()
            }
            if !evaluationPairs.isEmpty, plan.evalEvery > 0, state.step % plan.evalEvery == 0, !last {
                try emit(try evaluate(step: state.step, epoch: epoch))
            }
            if plan.saveEvery > 0, state.step % plan.saveEvery == 0, let dir = plan.checkpointDirectory {
                try TrainingCheckpoint.save(adapter: trainer.model.adapter, optimizer: trainer.optimizer,
                                            progress: state, in: dir)
            }
        }
        if !evaluationPairs.isEmpty {
            let epoch = plan.maxSteps == nil ? Double(settings.epochs)
                : Double(state.epoch) + Double(state.stepInEpoch) / Double(perEpoch)
            try emit(try evaluate(step: state.step, epoch: epoch))
        }
    }

    /// The current step's micro-batches from the epoch's order (the last ones of an epoch may be short).
    func microBatches(_ state: TrainingProgress) -> [[TokenizedPair]] {
        let b = settings.batchSize, g = settings.gradientAccumulationSteps
        let first = state.stepInEpoch * g * b
        return (0..<g).compactMap { k -> [TokenizedPair]? in
            let lo = first + k * b
            guard lo < state.order.count else { return nil }
            return state.order[lo..<min(state.order.count, lo + b)].map { pairs[$0] }
        }
    }

    /// A training record: loss and metrics averaged over the logging interval, as HF's Trainer
    /// averages its logged loss; grad_norm and learning_rate of the interval's last step.
    func record(_ logs: [TrainingLog], epoch: Double, tokensPerSecond: Double) throws -> JSONObject {
        guard let last = logs.last, let metrics = ORPOMetrics.mean(logs.map(\.metrics)) else {
            throw TrainingError.invalidArgument("no steps to log")
        }
        let loss = logs.reduce(0.0) { $0 + $1.loss } / Double(logs.count)
        var o = JSONObject([("split", JSONValue("train")), ("step", JSONValue(last.step)), ("epoch", JSONValue(epoch)),
                            ("loss", JSONValue(loss))])
        for (name, value) in metrics.named { o[name] = JSONValue(value) }
        o["grad_norm"] = JSONValue(last.gradNorm)
        o["learning_rate"] = JSONValue(last.learningRate)
        o["tokens_per_second"] = JSONValue(tokensPerSecond)
        o["pairs"] = JSONValue(logs.reduce(0) { $0 + $1.pairs })
        o["tokens"] = JSONValue(logs.reduce(0) { $0 + $1.tokens })
        return o
    }

    /// Loss and metrics on the evaluation pairs (no gradient), averaged over micro-batches
    /// weighted by their pairs.
    public func evaluate(step: Int, epoch: Double) throws -> JSONObject {
        let model = trainer.model
        var loss = 0.0, weighted: [ORPOMetrics] = [], weights: [Double] = []
        for lo in stride(from: 0, to: evaluationPairs.count, by: settings.batchSize) {
            let chunk = Array(evaluationPairs[lo..<min(evaluationPairs.count, lo + settings.batchSize)])
            let batch = try PreferenceBatch(pairs: chunk, padID: model.config.padID ?? 0, layout: settings.pairLayout)
            let pass = try model.forward(batch.tokens, lossRows: batch.lossRows(nll: settings.nllScope))
            let result = try ORPOLoss.evaluate(pass, batch: batch, beta: settings.beta, nll: settings.nllScope)
            loss += result.loss * Double(chunk.count)
            weighted.append(result.metrics)
            weights.append(Double(chunk.count))
        }
        let n = Double(evaluationPairs.count)
        var o = JSONObject([("split", JSONValue("eval")), ("step", JSONValue(step)), ("epoch", JSONValue(epoch)),
                            ("loss", JSONValue(loss / n))])
        let names = weighted.first?.named.map(\.0) ?? []
        for (i, name) in names.enumerated() {
            let value = zip(weighted, weights).reduce(0.0) { $0 + $1.0.named[i].1 * $1.1 } / n
            o[name] = JSONValue(value)
        }
        o["pairs"] = JSONValue(evaluationPairs.count)
        return o
    }
}
