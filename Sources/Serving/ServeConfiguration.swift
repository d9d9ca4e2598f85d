import Gemma
import Inference
import Records
import TensorKit

/// What `gemma-infer serve` was started with. The model path is read again on every reload, so
/// replacing the file behind it (atomically, by rename) and sending SIGHUP redeploys the model.
public struct ServeConfiguration: Sendable {
    /// GGUF file or Hugging Face checkpoint directory.
    public var modelPath: String
    /// A PEFT LoRA adapter (directory or .tar.gz) applied at every load, and its name for the log.
    public var adapterPath: String?
    public var adapterName: String?
    /// Threads of the compute pool the model's matrix products run on.
    public var threads: Int
    public var precision: MatmulPrecision = .fast
    /// Address to bind; loopback unless told otherwise, so nothing is exposed by accident.
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one (reported once the server listens).
    public var port = 8080
    /// When set, every /v1 and /admin request needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Traffic log (JSONL, appended); `-` is standard output.
    public var logPath: String
    /// Requests generating at the same time; their decode steps run as one batched forward.
    public var parallel = 4
    /// Requests that may wait for a free slot; one more is answered 503.
    public var queueCapacity = 64
    /// Largest request body accepted; a larger one is answered 413.
    public var maxBodyBytes = 1 << 20
    /// The most tokens one request may generate; a larger `max_tokens` is lowered to it (and to
    /// the room the prompt leaves in the context).
    public var maxTokensLimit = 4096
    /// Seconds a graceful stop waits for requests in flight; then they are cut, logged with
    /// `finish_reason` "shutdown", and the server exits.
    public var shutdownTimeout = 30.0
    /// The scale of a feedback `score` whose request names none (`--feedback-scale`).
    public var feedbackScale: UserRating.Scale = .fivePoint
    /// Defaults of every request (the filter's flags); a request's own fields override them.
    public var settings = InferenceSettings()

    public init(modelPath: String, threads: Int, logPath: String) {
        self.modelPath = modelPath
        self.threads = threads
        self.logPath = logPath
    }

    /// Refuses values the server cannot run with, naming the option.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw ServeError.invalidOption(name: "port", message: "must be between 0 and 65535, got \(port)")
        }
        guard parallel >= 1 else {
            throw ServeError.invalidOption(name: "parallel", message: "must be >= 1, got \(parallel)")
        }
        guard queueCapacity >= 0 else {
            throw ServeError.invalidOption(name: "queue", message: "must be >= 0, got \(queueCapacity)")
        }
        guard maxBodyBytes >= 1024 else {
            throw ServeError.invalidOption(name: "max-body", message: "must be at least 1024 bytes, got \(maxBodyBytes)")
        }
        guard maxTokensLimit >= 1 else {
            throw ServeError.invalidOption(name: "max-tokens-limit", message: "must be >= 1, got \(maxTokensLimit)")
        }
        guard shutdownTimeout >= 0, shutdownTimeout.isFinite else {
            throw ServeError.invalidOption(name: "shutdown-timeout", message: "must be a number of seconds >= 0, got \(shutdownTimeout)")
        }
        if let key = apiKey, key.isEmpty {
            throw ServeError.invalidOption(name: "api-key", message: "must not be empty")
        }
    }
}
