import Adapters
import ArgumentParser
import CommandLineTool
import Foundation
import Gemma
import HTTPClient
import Inference
import Judging
import Records
import Telemetry
import TensorKit

public struct JudgeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Score question/answer records with an LLM judge or a check that needs no model.",
        discussion: """
        Each record comes out with an object under the metric's name: score, explanation, status \
        (ok, parse_error, error, not_judged, budget_exhausted), pass, model, template_sha, version, \
        prompt_tokens, completion_tokens, latency_ms, cost. A reply without a readable score is \
        parse_error with the reply kept in "raw", never a score. Exit status: 0 all judged, 1 some \
        records failed, 2 fatal. See man/judge.1.
        """,
        version: ToolVersion.current)

    @Option(help: ArgumentHelp("Judge config file (see examples/judges/README.md).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("A check without a model instead of a config: regex=PATTERN, contains=TEXT, not_contains=TEXT, valid_json, length=MIN..MAX, no_pii, no_email, no_phone, no_card, no_iban.", valueName: "spec"))
    var check: String?

    @Option(help: ArgumentHelp("A custom judge template instead of a config, with {question}, {answer}, {reference}, {context} placeholders.", valueName: "text"))
    var template: String?

    @Option(help: ArgumentHelp("Allowed scores of --template, comma-separated (default 0,1).", valueName: "list"))
    var scores: String?

    @Option(help: ArgumentHelp("The metric's name (overrides the config's).", valueName: "name"))
    var metric: String?
    @Option(name: .customLong("name"), help: .hidden)
    var oldMetric: String?

    @Option(name: .customLong("pass-threshold"), parsing: .unconditional, help: "A record passes when its decision (the allowed score it was given; with log-probabilities, the one nearest the expected score) is at least this (overrides the config's).")
    var passThreshold: Double?

    @Option(name: .customLong("question-field"), help: "Record field holding the question.")
    var questionField: String?
    @Option(name: .customLong("answer-field"), help: "Record field holding the answer.")
    var answerField: String?
    @Option(name: .customLong("reference-field"), help: "Record field holding the reference (ground truth).")
    var referenceField: String?
    @Option(name: .customLong("context-field"), help: "Record field filling {context}.")
    var contextField: String?
    @Option(name: .customLong("answer-a-field"), help: "Record field holding answer A (pairwise).")
    var answerAField: String?
    @Option(name: .customLong("answer-b-field"), help: "Record field holding answer B (pairwise).")
    var answerBField: String?

    @Option(name: .customLong("base-url"), help: ArgumentHelp("OpenAI-compatible API root, e.g. https://api.openai.com/v1 (default: $OPENAI_BASE_URL). The key is read from $OPENAI_API_KEY.", valueName: "url"))
    var baseURL: String?
    @Option(help: ArgumentHelp("The judging model: its name on the server (with --base-url), or with --local a GGUF file or Hugging Face checkpoint (default: the installed Gemma 3 270M).", valueName: "model"))
    var model: String?
    @Flag(help: "Judge with a local model in process (--model, or the installed one).")
    var local = false
    @Option(name: .customLong("local-model"), help: .hidden)
    var localModel: String?
    @Option(name: .customLong("local-adapter"), help: ArgumentHelp("A PEFT LoRA adapter (directory or .tar.gz) applied to the local model (default: the config's local_adapter).", valueName: "path"))
    var localAdapter: String?
    @Option(parsing: .unconditional, help: "Worker threads of the local model (default: all cores).")
    var threads: Int?
    @Flag(help: "Have the local model write an explanation after the score (slow on a CPU).")
    var explain = false
    @Flag(name: .customLong("all-nodes"), help: "A config with nodes: ask every node of every record, not only those its rule reaches (for training and per-node evaluation).")
    var allNodes = false

    @Option(help: ArgumentHelp("Time allowed for one HTTP request (60, 60s, 2m).", valueName: "duration"))
    var timeout = DurationArgument(seconds: 60)
    @Option(parsing: .unconditional, help: "Attempts per request, the first included (retries on 429, 5xx, timeouts).")
    var attempts = 4
    @Option(parsing: .unconditional, help: "Sampling temperature of the judging model.")
    var temperature: Double = 0
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Tokens the judging model may write per reply.")
    var maxTokens = 256
    @Flag(name: .customLong("no-structured-output"), help: "Do not ask for response_format json_schema.")
    var noStructuredOutput = false
    @Flag(help: "Ask the server for log-probabilities and score by their expectation.")
    var logprobs = false
    @Flag(help: "Send the reply's opening ({\"score\": ) for the server to continue (vLLM's continue_final_message; gemma-infer serve) instead of asking for structured output: the score is the first token written, as with --local.")
    var prefill = false

    @Option(name: [.customShort("j"), .customLong("jobs")], parsing: .unconditional, help: "Requests in flight at once (output order is kept).")
    var jobs = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("Requests per minute at most.", valueName: "n"))
    var rpm: Double?
    @Option(name: .customLong("token-budget"), parsing: .unconditional, help: "Stop judging after this many tokens; the rest pass through as budget_exhausted.")
    var tokenBudget: Int?
    @Option(name: .customLong("cost-budget"), parsing: .unconditional, help: "Stop judging after this cost (see --prompt-price).")
    var costBudget: Double?
    @Option(name: .customLong("prompt-price"), parsing: .unconditional, help: "Price per million prompt tokens.")
    var promptPrice: Double = 0
    @Option(name: .customLong("completion-price"), parsing: .unconditional, help: "Price per million completion tokens.")
    var completionPrice: Double = 0

    @Option(help: ArgumentHelp("Content-addressed reply cache directory: reruns cost nothing, interrupted runs resume.", valueName: "dir"))
    var cache: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Judge this fraction of the records (chosen by the hash of --id-field); the rest pass through as not_judged.", valueName: "rate"))
    var sample: Double?
    @Option(name: .customLong("id-field"), help: "Record field identifying a record for --sample.")
    var idField = "id"

    @Flag(help: "Compare the judge's decisions with human labels and write a calibration report instead of the records.")
    var calibrate = false
    @Flag(name: .customLong("training-pairs"), help: "Write ORPO preference pairs (prompt, chosen = the human label, rejected = each other score) for training a local judge adapter with orpo-train, instead of judging.")
    var trainingPairs = false
    @Option(name: .customLong("label-field"), help: "Record field holding the human label for --calibrate and --training-pairs.")
    var labelField = "label"

    @OptionGroup var filter: RecordFilterOptions

    public init() {}

    public func validate() throws {
        let sources = [config != nil, check != nil, template != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --config, --check, --template") }
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("-j must be between 1 and 256") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        guard timeout.seconds > 0 else { throw ValidationError("--timeout must be positive") }
        _ = try OptionAlias.value(metric, "--metric", old: oldMetric, "--name")
        if local { _ = try OptionAlias.value(model, "--model", old: localModel, "--local-model") }
        if let rpm, rpm <= 0 { throw ValidationError("--rpm must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let passThreshold, !passThreshold.isFinite {
            throw ValidationError("--pass-threshold must be a finite number, not \(passThreshold)")
        }
        if let sample, !(0...1).contains(sample) { throw ValidationError("--sample must be between 0 and 1") }
    }

    public func run() throws {
        let diagnostics = Diagnostics(tool: "judge")
        if trainingPairs { return try writeTrainingPairs(diagnostics: diagnostics) }
        let judge: Judge
        let telemetry: Telemetry?
        do {
            judge = try makeJudge(diagnostics: diagnostics)
            telemetry = try Telemetry.fromEnvironment(serviceName: "judge")
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
        let runner = JudgeRun(judge: judge, options: filter, writer: JSONLWriter.standardOutput(), diagnostics: diagnostics)
        runner.jobs = jobs
        runner.calibrateLabelField = calibrate ? labelField : nil
        runner.telemetry = telemetry
        runner.showProgress = isatty(STDERR_FILENO) != 0
        let status = runner.run()
        telemetry?.finishBlocking()
        if status != 0 { throw ExitCode(status) }
    }

    /// `--training-pairs`: no backend, one or more pairs per labelled record.
    func writeTrainingPairs(diagnostics: Diagnostics) throws {
        let maker: JudgeTrainingPairs
        do {
            maker = try JudgeTrainingPairs(config: try judgeConfig(), labelField: labelField)
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
        let status = RecordFilter(tool: "judge", options: filter, diagnostics: diagnostics).run { record, _, emit in
            for pair in try maker.pairs(for: record) { try emit(pair) }
        }
        if status != 0 { throw ExitCode(status) }
    }

    func judgeConfig() throws -> JudgeConfig {
        var cfg: JudgeConfig
        if let config {
            cfg = try JudgeConfig.load(path: config)
        } else if let check {
            let parsed = try Check(flag: check)
            cfg = JudgeConfig(name: parsed.defaultName, gradingType: .check, check: parsed, source: "--check")
        } else {
            let list = try scores.map { text in
                try text.split(separator: ",").map { part -> String in
                    guard let i = Int(part.trimmingCharacters(in: .whitespaces)) else {
                        throw JudgeError.invalidConfig(source: "--scores", field: "scores", message: "'\(part)' is not an integer")
                    }
                    return String(i)
                }
            }
            cfg = JudgeConfig(name: "custom", gradingType: .custom, template: template, scores: list, source: "--template")
        }
        if let name = metric ?? oldMetric { cfg.name = name }
        if let passThreshold { cfg.passThreshold = passThreshold }
        let mapped: [(String, String?)] = [("question", questionField), ("answer", answerField), ("reference", referenceField),
                                           ("context", contextField), ("answer_a", answerAField), ("answer_b", answerBField)]
        for case let (field, recordField?) in mapped { cfg.recordFields[field] = recordField }
        try cfg.validate()
        return cfg
    }

    func makeJudge(diagnostics: Diagnostics) throws -> Judge {
        let cfg = try judgeConfig()
        var options = JudgeOptions()
        options.wantsLogprobs = logprobs
        options.wantsExplanation = explain
        options.allNodes = allNodes
        options.sampleRate = sample
        options.idField = idField
        options.promptPricePerMillion = promptPrice
        options.completionPricePerMillion = completionPrice
        let backend: (any JudgeBackend)?
        if cfg.gradingType == .check {
            backend = nil
        } else if local || localModel != nil {
            // --local-model PATH is the old spelling of --local --model PATH.
            let path = localModel ?? model ?? DefaultModel.path
            guard FileManager.default.fileExists(atPath: path) else {
                throw JudgeError.backendUnavailable("no model at \(path); run scripts/setup or pass --model")
            }
            let pool = try ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
            let loaded = try ModelLoader.load(path: path, pool: pool)
            var adapter: (name: String, sha256: String)?
            if let adapterPath = localAdapter ?? cfg.localAdapter {
                do {
                    try AdapterLoader.apply(adapterPath, to: loaded.model)
                    adapter = (AdapterLoader.adapterName(path: adapterPath), try AdapterLoader.digest(path: adapterPath))
                } catch {
                    // The adapter's errors name its file already.
                    let text = "\(error)"
                    throw JudgeError.backendUnavailable(text.hasPrefix(adapterPath) ? "adapter \(text)" : "adapter \(adapterPath): \(text)")
                }
            }
            backend = try LocalBackend(model: loaded, adapter: adapter)
            options.wantsLogprobs = true
        } else {
            let env = ProcessInfo.processInfo.environment
            guard let url = baseURL ?? env["OPENAI_BASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw JudgeError.backendUnavailable("no judging model: pass --base-url (or set OPENAI_BASE_URL), or --local")
            }
            guard let model else { throw JudgeError.backendUnavailable("--model is needed with --base-url") }
            var settings = OpenAISettings(baseURL: url, model: model, apiKey: env["OPENAI_API_KEY"])
            settings.timeout = timeout.seconds
            settings.retry = RetryPolicy(maxAttempts: attempts)
            settings.temperature = temperature
            settings.maxTokens = maxTokens
            settings.structuredOutput = !noStructuredOutput
            settings.prefillReply = prefill
            // Retries are reported from the worker threads; one line at a time.
            let lock = NSLock()
            backend = OpenAIBackend(settings: settings) { message in
                lock.lock()
                diagnostics.warning(message)
                lock.unlock()
            }
        }
        return try Judge(
            config: cfg, backend: backend, cache: try cache.map { try JudgeCache(directory: $0) },
            rateLimiter: rpm.map { RateLimiter(perMinute: $0) },
            budget: (tokenBudget != nil || costBudget != nil) ? Budget(maxTokens: tokenBudget, maxCost: costBudget) : nil,
            options: options)
    }
}
