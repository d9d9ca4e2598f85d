// swift-tools-version:6.1
// FeedbackLoop: monitor, judge and retrain a language model with small JSONL filters.
//
// One declarative list, grouped by layer from the bottom up; a target depends only on targets of
// its own or a lower layer (README, "Layout").
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "FeedbackLoop",
    platforms: [.macOS(.v14)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // gemma-infer serve: the HTTP server.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // SHA-256 and HMAC-SHA256 (Sources/Hashing wraps them in the project's digest type); the
        // HTTP stack already builds it, so it adds no build time.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // OpenTelemetry spans over OTLP/HTTP (gemma-infer serve, judge); its gRPC exporter is left
        // out (the trait), which would add grpc-swift to the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
    ],
    targets: [
        // MARK: C libraries, found by pkg-config and installed from Debian packages, and C kernels.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Quantized-weight dot products: AVX2, with a scalar reference beside them.
        .target(name: "CKernels"),

        // MARK: Foundations.
        // JSON: the one parser, value type and serializer, for records and files alike.
        .target(name: "JSON"),
        // Tensors and the heavy math: element types, dequantization, matrix products (OpenBLAS).
        .target(name: "TensorKit", dependencies: ["COpenBLAS", "CKernels"]),
        // SHA-256 and HMAC; .tar.gz archives (libarchive); an HTTP client with retries (libcurl).
        .target(name: "Hashing", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Archive", dependencies: ["CArchive"]),
        // OpenTelemetry: finished spans exported over OTLP/HTTP when the environment names an endpoint.
        .target(name: "Telemetry", dependencies: [
            .product(name: "OTel", package: "swift-otel"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),

        // MARK: Model formats.
        // GGUF and safetensors, read memory-mapped; the one Hugging Face config.json type.
        .target(name: "ModelFormats", dependencies: ["TensorKit", "JSON", "Records"]),
        // SentencePiece from GGUF vocabularies, Hugging Face tokenizer.json (BPE).
        .target(name: "Tokenizers", dependencies: ["ModelFormats", "JSON"]),

        // MARK: The engine.
        // Gemma 1/2/3: configuration, weights, the forward ops (which training's backwards reuse),
        // sampling, generation, the one chat-template renderer.
        .target(name: "Gemma", dependencies: ["TensorKit", "COpenBLAS", "ModelFormats", "Tokenizers", "JSON"]),
        // PEFT LoRA adapters, a library of their own so that whatever applies one links no backward
        // pass: adapter_config.json, the factors as plain arrays, PEFT files (directory or .tar.gz),
        // an adapter's name and digest, applying it to a loaded model, and merging it into a weight.
        .target(name: "Adapters", dependencies: ["Gemma", "TensorKit", "ModelFormats", "JSON", "Archive", "Hashing"]),

        // MARK: Records: JSON Lines in and out (reading with line numbers, writing, timestamps) and
        // the two errors a record can meet (a bad record, a fatal one); no argument parser.
        .target(name: "Records", dependencies: ["JSON"]),

        // MARK: Domain libraries.
        // gemma-infer: records in, answers out; the default model.
        .target(name: "Inference", dependencies: ["Gemma", "Records"]),
        // gemma-infer serve: an OpenAI-compatible HTTP server (Hummingbird) over the same engine,
        // logging every request as a JSONL record.
        .target(name: "Serving", dependencies: [
            "Inference", "Gemma", "Records", "Adapters", "Telemetry", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // judge: prompts, score parsing, OpenAI-compatible and local backends, cache, checks without
        // a model, calibration.
        .target(name: "Judging", dependencies: ["Records", "HTTPClient", "Hashing", "Gemma"]),
        // score-window and drift-alert: windows, percentiles, drift statistics, alert rules, notifiers.
        .target(name: "Monitoring", dependencies: ["Records", "HTTPClient", "Hashing"]),
        // A deployment's policy as data (topics, the refusal and the wordings that count as one, the
        // gate's bounds) with the one refusal detector; the evaluation over it (the per-answer rule,
        // figures, the promotion gate).
        .target(name: "Policy", dependencies: ["Records"]),
        .target(name: "Evaluation", dependencies: ["Policy", "Records"]),
        // orpo-pairs: judged traffic in, ORPO preference pairs out (TRL's prompt/chosen/rejected form).
        .target(name: "PairBuilding", dependencies: ["Records", "HTTPClient", "Policy"]),
        // LoRA training on the CPU: the backward of every Gemma op, ORPO as TRL computes it; the
        // adapter it trains (factors with gradients) converts to and from Adapters' PEFTAdapter.
        .target(name: "Training", dependencies: ["Adapters", "Gemma", "TensorKit", "COpenBLAS", "Records", "Tokenizers"]),
        // lora-merge: merge an adapter into the weights and write a GGUF file or a Hugging Face checkpoint.
        .target(name: "Merging", dependencies: ["Adapters", "Gemma", "ModelFormats", "TensorKit", "Records"]),

        // MARK: The command-line layer: what every tool shares. One Diagnostics (and a swift-log
        // handler in its form, for the server), the exit-status table, --on-error and the one record
        // loop (in order, with up to N records in flight), shared option groups, durations, the
        // default model, --version and the entry point that maps ArgumentParser's statuses to ours.
        .target(name: "CommandLineTool", dependencies: [
            "Records", argumentParser, .product(name: "Logging", package: "swift-log"),
        ]),

        // MARK: Commands: one library per tool, one file per command or subcommand, so that tests
        // run a tool in-process and a tool links only the domain it fronts.
        .target(name: "GemmaInferCLI", dependencies: ["CommandLineTool", "Inference", "Serving", "Adapters", "Gemma", "TensorKit"]),
        .target(name: "JudgeCLI", dependencies: [
            "CommandLineTool", "Judging", "Inference", "Gemma", "TensorKit", "Adapters", "HTTPClient", "Telemetry",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),
        .target(name: "ScoreWindowCLI", dependencies: ["CommandLineTool", "Monitoring"]),
        .target(name: "DriftAlertCLI", dependencies: ["CommandLineTool", "Monitoring", "HTTPClient"]),
        .target(name: "OrpoPairsCLI", dependencies: ["CommandLineTool", "PairBuilding", "Policy", "HTTPClient"]),
        // orpo-train's command, with the parts of a run around the trainer (pair reading and
        // truncation, checkpoints, the run's settings file).
        .target(name: "TrainingCLI", dependencies: [
            "CommandLineTool", "Training", "Adapters", "Inference", "Gemma", "ModelFormats", "TensorKit",
        ]),
        .target(name: "LoRAMergeCLI", dependencies: ["Adapters", "CommandLineTool", "Gemma", "Merging", "ModelFormats"]),
        // loop-eval: the evaluation's front for the loop's scripts (gate, figures).
        .target(name: "LoopEvalCLI", dependencies: ["CommandLineTool", "Evaluation", "Policy"]),

        // MARK: Executables: one per tool, each main.swift only calling its command.
        .executableTarget(name: "gemma-infer", dependencies: ["GemmaInferCLI", "CommandLineTool"]),
        .executableTarget(name: "judge", dependencies: ["JudgeCLI", "CommandLineTool"]),
        .executableTarget(name: "score-window", dependencies: ["ScoreWindowCLI", "CommandLineTool"]),
        .executableTarget(name: "drift-alert", dependencies: ["DriftAlertCLI", "CommandLineTool"]),
        .executableTarget(name: "orpo-pairs", dependencies: ["OrpoPairsCLI", "CommandLineTool"]),
        .executableTarget(name: "orpo-train", dependencies: ["TrainingCLI", "CommandLineTool"]),
        .executableTarget(name: "lora-merge", dependencies: ["LoRAMergeCLI", "CommandLineTool"]),
        .executableTarget(name: "loop-eval", dependencies: ["LoopEvalCLI", "CommandLineTool"]),
        .executableTarget(name: "bench-kernels", dependencies: ["TensorKit", "CKernels"]),

        // MARK: Tests. Tiny models built in the tests for most cases; the real default model where
        // installed (under CI its absence fails). Fixtures several targets read (the tiny Gemma
        // checkpoints, the default model's reference outputs) are kept once in Tests/Fixtures and
        // found through TestSupport.SharedFixtures, since SwiftPM copies resources per target.
        .target(name: "TestSupport", dependencies: ["Records", "CommandLineTool"], path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "TensorKitTests", dependencies: ["TensorKit", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HashingTests", dependencies: ["Hashing"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFormats", "JSON", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GemmaTests", dependencies: ["Gemma", "Inference", "ModelFormats", "Records", "TestSupport"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "CommandLineTool"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "TestSupport", "CommandLineTool"]),
        .testTarget(name: "ServingTests", dependencies: [
            "Serving", "Inference", "Gemma", "Records", "HTTPClient", "ModelFormats", "Tokenizers", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "JudgingTests", dependencies: ["Judging", "JudgeCLI", "CommandLineTool", "TestSupport", "Inference", "Gemma", "TensorKit"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "TestSupport", "HTTPClient", "Hashing"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "Evaluation", "Records", "TestSupport"]),
        .testTarget(name: "PairBuildingTests", dependencies: ["PairBuilding", "OrpoPairsCLI", "CommandLineTool", "Policy", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "TrainingCLI", "Adapters", "Gemma", "TensorKit", "ModelFormats", "Tokenizers", "Archive", "Inference",
            "TestSupport",
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingCLITests", dependencies: [
            "TrainingCLI", "CommandLineTool", "Training", "Adapters", "Gemma", "Tokenizers", "TensorKit", "Records", "TestSupport",
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "MergingTests", dependencies: [
            "Merging", "LoRAMergeCLI", "CommandLineTool", "Adapters", "Gemma", "ModelFormats", "TensorKit", "Archive", "Inference", "TestSupport", argumentParser,
        ], resources: [.copy("Fixtures")]),
        // The whole loop (scripts/loop --quick) on the real default model, with this build's tools.
        .testTarget(name: "LoopTests", dependencies: ["TestSupport", "Records", "Inference", "Policy", "Evaluation"]),
        // The man pages: required sections, every --help option named, every EXAMPLES block run,
        // usage errors exiting 2, the exit statuses each page lists shown by runs, --version.
        .testTarget(name: "DocsTests", dependencies: ["TestSupport", "Records", "CommandLineTool"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
