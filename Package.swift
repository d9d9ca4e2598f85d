// swift-tools-version:6.0
// FeedbackLoop: monitor, judge and retrain a language model with small JSONL filters.
import PackageDescription

let package = Package(
    name: "FeedbackLoop",
    platforms: [.macOS(.v14)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, found by pkg-config, installed from Debian packages.
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // Tensors and the heavy math: element types, dequantization, matrix products (OpenBLAS).
        .target(name: "TensorKit", dependencies: ["COpenBLAS", "CKernels"]),

        // JSON: the one parser, value type and serializer, for records and files alike.
        .target(name: "JSON"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),

        // Model file formats: GGUF and safetensors, read memory-mapped.
        .target(name: "ModelFormats", dependencies: ["TensorKit", "JSON"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats"], resources: [.copy("Fixtures")]),

        // Tokenizers: SentencePiece from GGUF vocabularies, Hugging Face tokenizer.json (BPE).
        .target(name: "Tokenizers", dependencies: ["ModelFormats", "JSON"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFormats", "JSON"], resources: [.copy("Fixtures")]),

        // Gemma 1/2/3 inference: configuration, weights, forward pass, sampling, generation.
        .target(name: "Gemma", dependencies: ["TensorKit", "COpenBLAS", "ModelFormats", "Tokenizers", "JSON"]),
        .testTarget(name: "GemmaTests", dependencies: ["Gemma", "Inference", "ModelFormats", "Records"], resources: [.copy("Fixtures")]),

        // JSONL records shared by every filter; score-window and drift-alert over the Monitoring library.
        .target(name: "Records", dependencies: [
            "JSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "RecordsTests", dependencies: ["Records"]),

        // Quantized-weight kernels (C, AVX2 with a scalar fallback), their tests and benchmark.
        .target(name: "CKernels"),
        .testTarget(
            name: "TensorKitTests", dependencies: ["TensorKit", "CKernels"],
            resources: [.copy("Fixtures")]),
        .executableTarget(name: "bench-kernels", dependencies: ["TensorKit", "CKernels"]),

        // gemma-infer: records in, answers out (filter), and the same as an HTTP server.
        .target(name: "Inference", dependencies: ["Gemma", "Records"]),
        .executableTarget(name: "gemma-infer", dependencies: [
            "Inference", "Adapters", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "TestSupport"]),

        // Networking, hashing and archives: libcurl and libarchive through typed C shims, HTTP client
        // with retries, SHA-256/HMAC, .tar.gz adapters, and a loopback HTTP server for tests.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),
        .target(name: "Hashing"),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        .target(name: "TestSupport", dependencies: ["Records"], path: "Tests/TestSupport"),
        .target(name: "Archive", dependencies: ["CArchive"]),
        .testTarget(name: "HashingTests", dependencies: ["Hashing"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive"]),

        // score-window and drift-alert over the Monitoring library.
        .target(name: "Monitoring", dependencies: [
            "Records", "HTTPClient", "Hashing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "score-window", dependencies: ["Monitoring", "Records"]),
        .executableTarget(name: "drift-alert", dependencies: ["Monitoring", "Records"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "TestSupport", "HTTPClient", "Hashing"],
                    resources: [.copy("Fixtures")]),
        // A deployment's policy as data (topics, the refusal and the wordings that count as one, the
        // gate's bounds) with the one refusal detector; the evaluation over it (the per-answer rule,
        // figures, the promotion gate) and loop-eval, its command-line front for the loop's scripts.
        .target(name: "Policy", dependencies: ["Records"]),
        .target(name: "Evaluation", dependencies: ["Policy", "Records"]),
        .executableTarget(name: "loop-eval", dependencies: [
            "Evaluation", "Policy", "Records", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "Evaluation", "Records", "TestSupport"]),
        // orpo-pairs: judged traffic in, ORPO preference pairs out (TRL's prompt/chosen/rejected form).
        .target(name: "PairBuilding", dependencies: [
            "Records", "HTTPClient", "Policy", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "orpo-pairs", dependencies: ["PairBuilding", "Records"]),
        .testTarget(name: "PairBuildingTests", dependencies: ["PairBuilding", "Policy", "TestSupport"]),
        // LoRA training on the CPU: forward/backward of every Gemma op, ORPO as TRL computes it,
        // PEFT adapter files, and applying an adapter to a loaded model.
        // PEFT LoRA adapters, a library of their own so that whatever applies one links no backward
        // pass: adapter_config.json, the factors as plain arrays, PEFT files (directory or .tar.gz),
        // an adapter's name and digest, applying it to a loaded model, and merging it into a weight.
        .target(name: "Adapters", dependencies: ["Gemma", "TensorKit", "ModelFormats", "JSON", "Archive", "Hashing"]),
        // LoRA training on the CPU: forward/backward of every Gemma op, ORPO as TRL computes it; the
        // adapter it trains (factors with gradients) converts to and from Adapters' PEFTAdapter.
        .target(name: "Training", dependencies: [
            "Adapters", "Gemma", "TensorKit", "COpenBLAS", "Records", "Tokenizers",
        ]),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "TrainingCLI", "Adapters", "Gemma", "TensorKit", "ModelFormats", "Tokenizers", "Archive", "Inference"],
            resources: [.copy("Fixtures")]),
        // judge: LLM-as-a-judge as a JSONL filter (prompts, score parsing, OpenAI-compatible and local
        // backends, cache, checks without a model, calibration).
        .target(name: "Judging", dependencies: ["Records", "HTTPClient", "Hashing", "Gemma"]),
        .executableTarget(name: "judge", dependencies: [
            "Judging", "Inference", "Gemma", "Records", "TensorKit", "Adapters",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "JudgingTests", dependencies: ["Judging", "TestSupport", "Inference", "Gemma", "TensorKit"],
                    resources: [.copy("Fixtures")]),
        // orpo-train: ORPO + LoRA training as a command (pairs in, metrics out, adapter and checkpoints
        // written); the command lives in TrainingCLI so that tests run it in-process.
        .target(name: "TrainingCLI", dependencies: [
            "Training", "Adapters", "Inference", "Gemma", "Records", "TensorKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "orpo-train", dependencies: ["TrainingCLI", "Records"]),
        .testTarget(name: "TrainingCLITests", dependencies: ["TrainingCLI", "Training", "Adapters", "Gemma", "Tokenizers", "TensorKit", "Records", "TestSupport"],
                    resources: [.copy("Fixtures")]),

        // lora-merge: merge a PEFT LoRA adapter (Adapters) into the weights and write a GGUF file or
        // a Hugging Face checkpoint.
        .target(name: "Merging", dependencies: [
            "Adapters", "Gemma", "ModelFormats", "TensorKit", "Records",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lora-merge", dependencies: ["Merging", "Records"]),
        // The whole loop (scripts/loop --quick) on the real default model, with this build's tools.
        .testTarget(name: "LoopTests", dependencies: ["TestSupport", "Records", "Inference", "Policy", "Evaluation"]),
        .testTarget(name: "MergingTests", dependencies: [
            "Merging", "Adapters", "Gemma", "ModelFormats", "TensorKit", "Archive", "Inference",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The man pages: required sections, every --help option named, and every EXAMPLES block run.
        .testTarget(name: "DocsTests", dependencies: ["TestSupport", "Records", "Inference"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)

// gemma-infer serve: an OpenAI-compatible HTTP server (Hummingbird) over the same engine as the
// filter, logging every request as a JSONL record.
package.dependencies.append(contentsOf: [
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
])
package.targets.append(contentsOf: [
    .target(name: "Serving", dependencies: [
        "Inference", "Gemma", "Records", "Adapters", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ]),
    .testTarget(
        name: "ServingTests",
        dependencies: ["Serving", "Inference", "Gemma", "Records", "HTTPClient", "ModelFormats", "Tokenizers", "TestSupport"]),
])
package.targets.first { $0.name == "gemma-infer" }?.dependencies.append("Serving")
