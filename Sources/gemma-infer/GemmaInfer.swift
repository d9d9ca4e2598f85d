import Adapters
import ArgumentParser
import Foundation
import Gemma
import Inference
import Records
import Serving
import TensorKit


struct GemmaInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemma-infer",
        abstract: "Answer JSONL records with a Gemma model on the CPU, logging latency and token counts.",
        discussion: """
        Each input line is a JSON object with a "question" (Gemma's chat format is applied), a raw \
        "prompt" (BOS is added), or OpenAI-style "messages". The record comes out with "answer", \
        "model", "adapter", "prompt_tokens", "completion_tokens", "ttft_ms", "tpot_ms", \
        "latency_ms", "finish_reason", "ts" and "id" added; other fields pass through.
        """,
        subcommands: [Run.self, Serve.self],
        defaultSubcommand: Run.self)
}

struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("GGUF file or Hugging Face checkpoint directory (default: the installed Gemma 3 270M).", valueName: "path"))
    var model: String?

    @Option(help: "Worker threads for the matrix products (default: all cores).")
    var threads: Int?

    @Flag(help: "Keep activations in float32 in every product (slower; the reference path).")
    var exact = false

    @Option(help: ArgumentHelp("PEFT LoRA adapter (directory or .tar.gz) applied at load without merging.", valueName: "path"))
    var adapter: String?

    /// The adapter's name for records: its directory or archive name without extension.
    var adapterName: String? { adapter.map(AdapterLoader.adapterName(path:)) }

    var path: String { model ?? DefaultModel.path }
    var precision: MatmulPrecision { exact ? .exact : .fast }

    func load() throws -> LoadedModel { try load(pool: try makePool()) }

    /// The model with the adapter applied (the server reloads through this with its own pool).
    func load(pool: ComputePool) throws -> LoadedModel {
        let loaded = try ModelLoader.load(path: try checkedPath(), pool: pool, precision: precision)
        if let adapter { try AdapterLoader.apply(adapter, to: loaded.model) }
        return loaded
    }

    func checkedPath() throws -> String {
        if model == nil, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("the default model is not installed at \(path); run scripts/setup or pass --model")
        }
        return path
    }

    func makePool() throws -> ComputePool {
        try ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}

struct GenerationOptions: ParsableArguments {
    @Option(name: .customLong("max-tokens"), help: "Generated tokens at most (the prompt does not count).")
    var maxTokens = 256
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0
    @Option(name: .customLong("top-p"), help: "Nucleus sampling: keep the most likely tokens up to this probability.")
    var topP: Float = 1
    @Option(name: .customLong("top-k"), help: "Keep only the k most likely tokens (0: off).")
    var topK = 0
    @Option(name: .customLong("repetition-penalty"), help: "Penalty on tokens already in the sequence (1: off).")
    var repetitionPenalty: Float = 1
    @Option(help: "Random seed, for reproducible sampling.")
    var seed: UInt64?
    @Option(help: "Stop before this text (repeatable).")
    var stop: [String] = []
    @Option(name: .customLong("top-logprobs"), help: "Report each generated token's log-probability and the K best alternatives.")
    var topLogprobs: Int?
    @Option(help: "A system message put before each question.")
    var system: String?

    func settings() throws -> InferenceSettings {
        var s = InferenceSettings()
        s.maxTokens = maxTokens
        s.sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP,
                                        repetitionPenalty: repetitionPenalty, seed: seed)
        s.stop = stop
        s.topLogprobs = topLogprobs
        s.system = system
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        if let k = topLogprobs, k < 0 || k > 20 { throw ValidationError("--top-logprobs must be between 0 and 20") }
        do { try s.sampling.validate() } catch { throw ValidationError("\(error)") }
        return s
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer each input record (the default command).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var filter: RecordFilterOptions

    @Option(name: .customLong("question-field"), help: "The field holding the question.")
    var questionField = "question"

    @Option(name: .customLong("score-completion"), help: ArgumentHelp(
        "Instead of generating, score the text of this field as the completion: adds completion_logprob (sum) and completion_logprob_mean.",
        valueName: "field"))
    var scoreCompletion: String?

    @Option(help: "Name recorded in the \"adapter\" field (default: the --adapter's name).")
    var adapterName: String?

    func run() throws {
        let diagnostics = Diagnostics(tool: "gemma-infer")
        let loaded: LoadedModel
        do {
            loaded = try modelOptions.load()
        } catch let e as ValidationError {
            throw e
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
        var inference = RecordInference(model: loaded, settings: try generation.settings(), adapterName: adapterName ?? modelOptions.adapterName)
        inference.questionField = questionField
        inference.completionField = scoreCompletion
        let runner = RecordFilter(tool: "gemma-infer", options: filter, diagnostics: diagnostics)
        let status = runner.run { record, _, emit in
            try emit(try inference.process(record))
        }
        if status != 0 { throw ExitCode(status) }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over an OpenAI-compatible HTTP API, logging every request as a JSONL record.",
        discussion: """
        Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, POST \
        /v1/feedback, GET /health, GET /metrics (Prometheus), POST /admin/reload. SIGHUP reloads \
        the model; SIGTERM finishes the requests in flight (cutting those still running after \
        --shutdown-timeout), flushes the log and exits 0.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var generation: GenerationOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, reported on stderr).")
    var port = 8080
    @Option(help: ArgumentHelp("Traffic log: one JSONL record per request, appended (-: stdout).", valueName: "path"))
    var log: String
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1 and /admin requests.")
    var apiKey: String?
    @Option(help: "Requests generating at the same time (their decode steps run as one batch).")
    var parallel = 4
    @Option(help: "Requests that may wait for a slot; more are answered 503.")
    var queue = 64
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes; larger is answered 413.")
    var maxBody = 1 << 20
    @Option(name: .customLong("max-tokens-limit"), help: "Most tokens one request may generate; a larger max_tokens is lowered.")
    var maxTokensLimit = 4096
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds SIGTERM waits for requests in flight before cutting them.")
    var shutdownTimeout = 30.0

    func run() throws {
        let diagnostics = DiagnosticSink(tool: "gemma-infer")
        var config = ServeConfiguration(
            modelPath: try modelOptions.checkedPath(),
            threads: modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount, logPath: log)
        config.precision = modelOptions.precision
        config.adapterPath = modelOptions.adapter
        config.adapterName = modelOptions.adapterName
        config.host = host
        config.port = port
        config.apiKey = apiKey ?? ProcessInfo.processInfo.environment["GEMMA_INFER_API_KEY"]
        config.parallel = parallel
        config.queueCapacity = queue
        config.maxBodyBytes = maxBody
        config.maxTokensLimit = maxTokensLimit
        config.shutdownTimeout = shutdownTimeout
        config.settings = try generation.settings()
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        let status = ServeCommandRunner.run(config, diagnostics: diagnostics)
        if status != 0 { throw ExitCode(status) }
    }
}
