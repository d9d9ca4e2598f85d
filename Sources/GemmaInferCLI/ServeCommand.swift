import ArgumentParser
import CommandLineTool
import Foundation
import Records
import Serving

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
    @Option(parsing: .unconditional, help: "Port to listen on (0: any free port, reported on stderr).")
    var port = 8080
    @Option(help: ArgumentHelp("Traffic log: one JSONL record per request, appended (-: stdout).", valueName: "path"))
    var log: String
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1 and /admin requests.")
    var apiKey: String?
    @Option(parsing: .unconditional, help: "Requests generating at the same time (their decode steps run as one batch).")
    var parallel = 4
    @Option(parsing: .unconditional, help: "Requests that may wait for a slot; more are answered 503.")
    var queue = 64
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes; larger is answered 413.")
    var maxBody = 1 << 20
    @Option(name: .customLong("max-tokens-limit"), parsing: .unconditional, help: "Most tokens one request may generate; a larger max_tokens is lowered.")
    var maxTokensLimit = 4096
    @Option(name: .customLong("feedback-scale"), help: ArgumentHelp("Scale of a /v1/feedback 'score' whose request names none: 1-5, 0-1 or thumbs.", valueName: "scale"))
    var feedbackScale = "1-5"
    @Option(name: .customLong("shutdown-timeout"), help: "How long SIGTERM waits for requests in flight before cutting them (60, 30s, 2m).")
    var shutdownTimeout = DurationArgument(seconds: 30)

    func run() throws {
        let logger = DiagnosticsLogHandler.logger(tool: "gemma-infer")
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
        guard let scale = UserRating.Scale(rawValue: feedbackScale) else {
            throw ValidationError("--feedback-scale must be one of \(UserRating.Scale.names), got \(feedbackScale)")
        }
        config.feedbackScale = scale
        config.shutdownTimeout = shutdownTimeout.seconds
        config.settings = try generation.settings()
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        let status = ServeCommandRunner.run(config, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}
