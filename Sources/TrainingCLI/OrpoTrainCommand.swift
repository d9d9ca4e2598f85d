import Adapters
import ArgumentParser
import CommandLineTool
import Foundation
import Gemma
import Inference
import Records
import TensorKit
import Training

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `orpo-train` command line. It lives in the library, with the executable a one-line entry
/// point, so that tests run the real command in-process. man/orpo-train.1 documents the same options.
public struct OrpoTrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orpo-train",
        abstract: "Train a LoRA adapter with ORPO on preference pairs (prompt, chosen, rejected).",
        discussion: """
        Writes one JSONL record per logging step on standard output (TRL's metric names, "split": \
        "train") and evaluation records ("split": "eval") for the --eval pairs. A pair that cannot be \
        used is reported on stderr with its line and skipped. LoRA dropout (PEFT's, on the input of the \
        LoRA branch) applies in training steps only, not in evaluation. Exit status: 0 all pairs \
        trained, 1 some pairs were skipped, 2 fatal error.
        """,
        version: ToolVersion.current)

    @Argument(help: ArgumentHelp("Training pairs (JSONL); '-' or none reads standard input.", valueName: "file"))
    public var inputs: [String] = []

    @Option(name: .customLong("eval"), help: ArgumentHelp("Validation pairs (JSONL, repeatable).", valueName: "file"))
    public var evaluation: [String] = []

    @OptionGroup public var modelOption: ModelOption

    /// The `--model` given, if any.
    public var model: String? { modelOption.model }

    @Flag(help: "Read TRL's tokenized form (prompt_input_ids, chosen_input_ids, rejected_input_ids, optional *_labels) instead of text; no tokenizer is needed.")
    public var tokenized = false

    @Option(name: [.short, .long], help: ArgumentHelp("Where to write the trained PEFT adapter: a directory, or a .tar.gz archive when the path ends so.", valueName: "path"))
    public var output: String?
    @Option(name: .customLong("adapter-out"), help: .hidden)
    var oldOutput: String?

    /// `-o/--output`, or its old spelling `--adapter-out` (validate() requires one).
    public var adapterOut: String { output ?? oldOutput ?? "" }

    @Option(name: .customLong("init-adapter"), help: ArgumentHelp("Continue training this PEFT adapter (directory or .tar.gz) instead of a fresh one.", valueName: "path"))
    public var initAdapter: String?

    @Option(parsing: .unconditional, help: "LoRA rank.")
    public var r = 16

    @Option(parsing: .unconditional, help: "LoRA alpha (scale alpha / r).")
    public var alpha = 32.0

    @Option(parsing: .unconditional, help: "LoRA dropout probability, in [0, 1) (default 0.05; with --init-adapter, the adapter's lora_dropout).")
    public var dropout: Double?

    @Option(help: ArgumentHelp("Adapted linear layers, comma-separated (q,k,v,o,gate,up,down or q_proj, ...).", valueName: "list"))
    public var targets = "q,k,v,o,gate,up,down"

    @Option(parsing: .unconditional, help: "Weight of the odds-ratio term (TRL's beta; default 0.1).")
    public var beta: Double?

    @Option(name: .customLong("nll-scope"), help: "What the NLL term covers: sequence (prompt included, as TRL) or completion (default sequence).")
    public var nllScope: NLLScope?

    @Option(name: .customLong("pair-layout"), help: "shared: each pair's prompt runs once for both responses (default); prefix: as shared, and the tokens all pairs of a micro-batch begin with (such as a judge's instructions; 9 or more, else as shared) run once for all of them; separate: chosen and rejected as two padded sequences, as TRL runs them. Loss and gradients are the same; only the logits/* metrics differ (TRL's average over padding rows).")
    public var pairLayout: PairLayout?

    @Option(parsing: .unconditional, help: "Peak learning rate (default 1e-6).")
    public var lr: Double?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Pairs per micro-batch (default 8).")
    public var batchSize: Int?

    @Option(name: .customLong("grad-accum"), parsing: .unconditional, help: "Micro-batches per optimizer step (default 1).")
    public var gradAccum: Int?

    @Option(parsing: .unconditional, help: "Passes over the pairs (default 1).")
    public var epochs: Int?

    @Option(name: .customLong("max-steps"), parsing: .unconditional, help: "Stop after this many optimizer steps (overrides --epochs).")
    public var maxSteps: Int?

    @Option(name: .customLong("warmup-ratio"), parsing: .unconditional, help: "Fraction of the steps spent warming the rate up (default 0).")
    public var warmupRatio: Double?

    @Option(name: .customLong("warmup-steps"), parsing: .unconditional, help: "Warmup steps (overrides --warmup-ratio).")
    public var warmupSteps: Int?

    @Option(name: .customLong("max-grad-norm"), parsing: .unconditional, help: "Clip the gradient norm to this; 0 disables (default 1).")
    public var maxGradNorm: Double?

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Longest prompt + response in tokens (default 1024).")
    public var maxLength: Int?

    @Option(name: .customLong("max-prompt-length"), parsing: .unconditional, help: "Longest prompt kept when a pair is too long (default 512).")
    public var maxPromptLength: Int?

    @Option(name: .customLong("long-pairs"), help: "A pair longer than --max-length: truncate (as TRL) or skip (report it).")
    public var longPairs: LongPairPolicy = .truncate

    @Option(parsing: .unconditional, help: "Seed of the data order and of a fresh adapter (default 42).")
    public var seed: UInt64?

    @Option(help: ArgumentHelp("JSON file of training settings (snake_case keys as TRL's); flags override it.", valueName: "file"))
    public var config: String?

    @Option(name: .customLong("log-every"), parsing: .unconditional, help: "Write a training record every N steps (and after the last).")
    public var logEvery = 1

    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Evaluate the --eval pairs every N steps (0: only at the end).")
    public var evalEvery = 0

    @Option(name: .customLong("save-every"), parsing: .unconditional, help: "Write a checkpoint every N steps (0: none).")
    public var saveEvery = 0

    @Option(name: .customLong("checkpoint-dir"), help: ArgumentHelp("Directory of the checkpoints.", valueName: "dir"))
    public var checkpointDir: String?

    @Flag(help: "Replace --output even when it is not an earlier adapter (a non-empty directory, another file).")
    public var force = false

    @Flag(help: "Continue from the last checkpoint in --checkpoint-dir.")
    public var resume = false

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    public var threads: Int?

    @Flag(help: "Keep activations in float32 in every product with the frozen weights (slower; the reference path). Without it the forward's products with quantized weights run on the packed int8 kernel on CPUs with AVX-512 VNNI.")
    public var exact = false

    public init() {}

    public func validate() throws {
        if let p = dropout, !(0..<1).contains(p) { throw ValidationError("--dropout \(p): must lie in [0, 1)") }
        if resume, checkpointDir == nil { throw ValidationError("--resume needs --checkpoint-dir") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be at least 1") }
        guard try OptionAlias.value(output, "--output", old: oldOutput, "--adapter-out") != nil else {
            throw ValidationError("Missing expected argument '--output <path>'")
        }
    }

    public func run() throws {
        let diagnostics = Diagnostics(tool: "orpo-train")
        let output = JSONLWriter.standardOutput()
        do {
            let outcome = try train(diagnostics: diagnostics) { try output.write($0) }
            if outcome.skipped > 0 { throw ExitCode(ExitStatus.recordsFailed) }
        } catch let e as ExitCode {
            throw e
        } catch JSONLWriter.Failure.brokenPipe {
            throw ExitCode(ExitStatus.success)
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
    }

    /// The settings: defaults, then the --config file, then the flags.
    func resolvedSettings() throws -> (settings: ORPOTrainingSettings, plan: ORPOTrainingRun.Plan, maxPromptLength: Int) {
        let file = try config.map(RunSettingsFile.read)
        var s = file?.settings ?? ORPOTrainingSettings()
        if let beta { s.beta = beta }
        if let nllScope { s.nllScope = nllScope }
        if let pairLayout { s.pairLayout = pairLayout }
        if let lr { s.learningRate = lr }
        if let batchSize { s.batchSize = batchSize }
        if let gradAccum { s.gradientAccumulationSteps = gradAccum }
        if let epochs { s.epochs = epochs }
        if let warmupRatio { s.warmupRatio = warmupRatio }
        if let maxGradNorm { s.maxGradNorm = maxGradNorm }
        if let maxLength { s.maxLength = maxLength }
        if let seed { s.seed = seed }
        try s.validate()
        var plan = ORPOTrainingRun.Plan()
        plan.maxSteps = maxSteps ?? file?.maxSteps
        plan.warmupSteps = warmupSteps ?? file?.warmupSteps
        plan.logEvery = logEvery
        plan.evalEvery = evalEvery
        plan.saveEvery = saveEvery
        plan.checkpointDirectory = checkpointDir
        let promptLimit = maxPromptLength ?? file?.maxPromptLength ?? min(512, s.maxLength / 2)
        guard promptLimit > 0, promptLimit < s.maxLength else {
            throw TrainingError.invalidArgument("max_prompt_length: must be positive and below max_length \(s.maxLength)")
        }
        return (s, plan, promptLimit)
    }

    /// LoRA dropout of a fresh adapter without --dropout: the value of the run the project's
    /// defaults follow (r 16, alpha 32, dropout 0.05).
    public static let defaultDropout = 0.05

    /// PEFT module names of --targets.
    func targetModules() throws -> [String] {
        let short = ["q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj",
                     "up": "up_proj", "down": "down_proj"]
        let names = targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw TrainingError.invalidArgument("--targets: no layers given") }
        return try names.map { name in
            if let full = short[name] { return full }
            guard short.values.contains(name) else {
                throw TrainingError.invalidArgument("--targets: unknown layer '\(name)' (use q,k,v,o,gate,up,down)")
            }
            return name
        }
    }

    /// What a finished run leaves: the trained adapter (also written to --adapter-out) and the
    /// number of pairs skipped.
    public struct Outcome {
        public var adapter: LoRAAdapter
        public var skipped: Int
    }

    /// Runs the whole training, sending records to `emit`.
    public func train(diagnostics: Diagnostics, emit: @escaping (JSONObject) throws -> Void) throws -> Outcome {
        let (settings, plan, promptLimit) = try resolvedSettings()
        try PEFTAdapter.checkWritable(adapterOut, force: force)  // before loading the model, too
        let pool = try ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let path = model ?? DefaultModel.path
        let base: GemmaModel, tokenizer: PreferenceTokenizer?
        if tokenized {
            base = try ModelLoader.loadModel(path: path, pool: pool, precision: .exact)
            tokenizer = nil
        } else {
            let loaded = try ModelLoader.load(path: path, pool: pool, precision: .exact)
            base = loaded.model
            tokenizer = PreferenceTokenizer(tokenizer: loaded.tokenizer, bosID: loaded.tokenizer.bosID,
                                            eosID: loaded.tokenizer.eosID, maxLength: Int.max / 4)
        }
        return try Self.train(model: base, modelPath: path, tokenizer: tokenizer, settings: settings, plan: plan,
                              promptLimit: promptLimit, command: self, pool: pool, diagnostics: diagnostics, emit: emit)
    }

    /// The run on a loaded model (tests pass a tiny model and tokenizer here).
    public static func train(model base: GemmaModel, modelPath: String?, tokenizer: PreferenceTokenizer?,
                             settings: ORPOTrainingSettings, plan: ORPOTrainingRun.Plan, promptLimit: Int,
                             command: OrpoTrainCommand, pool: ComputePool, diagnostics: Diagnostics,
                             emit: @escaping (JSONObject) throws -> Void) throws -> Outcome {
        // Outputs are checked before any work, so a bad location never costs a training run.
        try PEFTAdapter.checkWritable(command.adapterOut, force: command.force)
        if let dir = command.checkpointDir { try TrainingCheckpoint.checkWritable(dir) }
        let reader = TrainingPairReader(
            tokenizer: tokenizer,
            truncation: PairTruncation(maxLength: settings.maxLength, maxPromptLength: promptLimit, policy: command.longPairs),
            vocabularySize: base.config.vocabularySize, contextLength: base.config.contextLength)
        let train = try reader.read(paths: command.inputs)
        let evaluation = command.evaluation.isEmpty ? TrainingPairReader.Result() : try reader.read(paths: command.evaluation)
        for problem in train.problems + evaluation.problems {
            diagnostics.error("skipped pair: \(problem.message)", at: problem.location)
        }
        let skipped = train.problems.count + evaluation.problems.count
        if skipped > 0 {
            diagnostics.note("skipped \(train.problems.count) of \(train.pairs.count + train.problems.count) training pairs"
                + (command.evaluation.isEmpty ? "" : " and \(evaluation.problems.count) of \(evaluation.pairs.count + evaluation.problems.count) validation pairs"))
        }
        if train.truncated + evaluation.truncated > 0 {
            diagnostics.note("truncated \(train.truncated + evaluation.truncated) pairs to max_length \(settings.maxLength) (max_prompt_length \(promptLimit))")
        }
        guard !train.pairs.isEmpty else { throw TrainingError.invalidArgument("no usable training pairs") }

        var checkpoint: (path: String, progress: TrainingProgress)?
        if command.resume, let dir = command.checkpointDir {
            if let latest = TrainingCheckpoint.latest(in: dir) {
                checkpoint = (latest, try TrainingCheckpoint.progress(at: latest))
            } else {
                diagnostics.note("no checkpoint in \(dir); starting from step 0")
            }
        }
        var adapter: LoRAAdapter
        if let checkpoint {
            adapter = try LoRAAdapter(PEFTAdapter.read(path: checkpoint.path + "/adapter", model: base.config))
        } else if let initial = command.initAdapter {
            adapter = try LoRAAdapter(PEFTAdapter.read(path: initial, model: base.config))
        } else {
            let config = AdapterConfig(r: command.r, loraAlpha: command.alpha, targetModules: try command.targetModules(),
                                       loraDropout: command.dropout ?? defaultDropout, baseModelNameOrPath: modelPath)
            adapter = try LoRAAdapter.initialized(config: config, model: base.config, seed: settings.seed)
        }
        if let p = command.dropout, p != adapter.config.loraDropout {
            var config = adapter.config
            config.loraDropout = p
            adapter = LoRAAdapter(config: config, layers: adapter.layers)
        }
        let trainer = try ORPOTrainer(model: try TrainableGemma(model: base, adapter: adapter, pool: pool,
                                                                   packedForward: !command.exact),
                                       settings: settings)
        let progressLine: ((String) -> Void)? = isatty(STDERR_FILENO) != 0 ? { line in
            fputs("\r\u{1B}[K" + line, stderr)
        } : nil
        let run = try ORPOTrainingRun(trainer: trainer, plan: plan, pairs: train.pairs, evaluationPairs: evaluation.pairs,
                                      emit: emit, progress: progressLine)
        var start = run.start()
        if let checkpoint {
            try run.checkResumable(checkpoint.progress)
            try TrainingCheckpoint.restore(trainer.optimizer, from: checkpoint.path, step: checkpoint.progress.step)
            start = checkpoint.progress
            diagnostics.note("resuming from \(checkpoint.path) at step \(start.step)")
        }
        try run.run(from: start)
        if progressLine != nil { fputs("\n", stderr) }
        try PEFTAdapter.write(adapter.peftAdapter, to: command.adapterOut)
        return Outcome(adapter: adapter, skipped: skipped)
    }
}

extension LongPairPolicy: ExpressibleByArgument {}
extension NLLScope: ExpressibleByArgument {}
extension PairLayout: ExpressibleByArgument {}
