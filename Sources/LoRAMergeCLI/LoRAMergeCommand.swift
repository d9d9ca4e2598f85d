import Adapters
import ArgumentParser
import CommandLineTool
import Foundation
import Gemma
import Merging
import ModelFormats
import Records

extension MergedWeightType: ExpressibleByArgument {}

/// `lora-merge`: folds a PEFT LoRA adapter into a base model's weights and writes a standalone
/// model (GGUF or a Hugging Face checkpoint), so that serving needs no adapter at all.
public struct LoRAMergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lora-merge",
        abstract: "Merge a PEFT LoRA adapter into a Gemma model: W += scaling · (B @ A), in float32.",
        discussion: """
        The adapter is a directory holding adapter_config.json and adapter_model.safetensors, or a \
        .tar.gz of one. When --output ends in .gguf the model must be a GGUF file: every tensor and all \
        metadata and vocabulary are copied, the adapted weights stored as --type. Otherwise --output is \
        a Hugging Face checkpoint directory (config.json, model.safetensors). Progress goes to stderr; \
        exit status 0 on success, 2 on any error. See lora-merge(1).

        With --combine (repeated) no model is merged: the adapters given are combined into one \
        adapter whose update is the weighted sum of theirs, exactly (rank the sum of their ranks), \
        written to --output as a directory or a .tar.gz; --model only supplies the shapes.

        Examples:
          lora-merge --model gemma-3-270m-q4_k_m.gguf --adapter banking-lora -o banking.gguf --type q8_0
          lora-merge --adapter banking-lora.tar.gz -o banking-hf
          lora-merge --combine round-8.tar.gz=0.25 --combine round-11.tar.gz=0.75 -o blend.tar.gz
        """,
        version: ToolVersion.current)

    @OptionGroup public var modelOption: ModelOption
    @Option(name: .customLong("base"), help: .hidden)
    var oldModel: String?

    /// The model the adapter is merged into: `--model` (or its old spelling `--base`), by default
    /// the installed one.
    public var base: String { modelOption.model ?? oldModel ?? modelOption.path }

    @Option(help: ArgumentHelp("PEFT adapter directory or .tar.gz.", valueName: "path"))
    public var adapter: String?

    @Option(help: ArgumentHelp(
        "An adapter and its weight; repeated, writes one adapter whose update is the weighted sum of theirs (no model merged).",
        valueName: "path=weight"))
    public var combine: [WeightedAdapterArgument] = []

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Output: a .gguf file, or a directory for a Hugging Face checkpoint; with --combine, an adapter directory or .tar.gz.",
        valueName: "path"))
    public var output: String?
    @Option(name: .customLong("out"), help: .hidden)
    var oldOutput: String?

    /// `-o/--output`, or its old spelling `--out` (validate() requires one).
    public var out: String { output ?? oldOutput ?? "" }

    @Option(name: .customLong("type"), help: "Element type of the merged weights: f32 (default), f16, or q8_0 (GGUF only).")
    public var mergedType: MergedWeightType?

    /// `--type`, f32 when not given.
    public var type: MergedWeightType { mergedType ?? .f32 }

    @Option(parsing: .unconditional, help: "Worker threads for dequantizing the base (default: all cores).")
    public var threads: Int?

    @Flag(help: "Replace --output even when it is not an earlier output of lora-merge.")
    public var force = false

    public init() {}

    public func validate() throws {
        _ = try OptionAlias.value(modelOption.model, "--model", old: oldModel, "--base")
        guard try OptionAlias.value(output, "--output", old: oldOutput, "--out") != nil else {
            throw ValidationError("Missing expected argument '--output <path>'")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if combine.isEmpty {
            guard adapter != nil else { throw ValidationError("Missing expected argument '--adapter <path>' (or --combine)") }
            return
        }
        guard adapter == nil else { throw ValidationError("--adapter and --combine exclude each other: --combine writes an adapter, --adapter merges one") }
        if out.lowercased().hasSuffix(".gguf") {
            throw ValidationError("--combine writes an adapter: --output must be a directory or a .tar.gz, not \(out)")
        }
        if mergedType != nil { throw ValidationError("--type applies to merged models; --combine writes float32 factors") }
        if threads != nil { throw ValidationError("--threads applies to merging; --combine does not load the model's weights") }
    }

    public func run() throws {
        let diagnostics = Diagnostics(tool: "lora-merge")
        PendingOutputs.removeOnTermination()
        do {
            if combine.isEmpty { try merge(diagnostics) } else { try combineAdapters(diagnostics) }
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
    }

    /// --adapter: fold the adapter into the model and write the merged model.
    func merge(_ diagnostics: Diagnostics) throws {
        let merger = LoRAMerger(basePath: base, adapterPath: adapter ?? "", outputPath: out, type: type,
                                threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, force: force)
        let summary = try merger.run { diagnostics.note($0) }
        diagnostics.note("merged \(summary.mergedTensors) adapted weights of '\(summary.adapterName)' into \(out)")
        if !merger.writesGGUF, summary.copiedTokenizerFiles.isEmpty {
            diagnostics.note("no tokenizer files written (a GGUF base keeps its vocabulary in metadata); add the base model's tokenizer.json before loading \(out) with transformers")
        }
    }

    /// --combine: read each adapter (shapes checked against the model's configuration, whose weights
    /// are not read), combine them and write the result as an adapter.
    func combineAdapters(_ diagnostics: Diagnostics) throws {
        try PEFTAdapter.checkWritable(out, force: force)
        let model = try ModelLoader.loadConfig(path: try modelOption.model ?? oldModel ?? modelOption.checkedPath())
        var parts: [PEFTAdapter.Weighted] = []
        for part in combine {
            diagnostics.note("reading \(part.path) (weight \(part.weight))")
            parts.append(.init(try PEFTAdapter.read(path: part.path, model: model), weight: part.weight))
        }
        let result = try PEFTAdapter.combine(parts)
        try PEFTAdapter.write(result, to: out)
        let what = parts.count == 1 ? "1 adapter" : "\(parts.count) adapters"
        diagnostics.note("combined \(what) into \(out): \(result.modules.count) adapted weights, rank \(result.config.r)")
    }
}

/// A `--combine` value, PATH=WEIGHT split at the last "=": a path and a finite number.
public struct WeightedAdapterArgument: ExpressibleByArgument, Sendable, Equatable {
    public var path: String
    public var weight: Double

    public init(path: String, weight: Double) {
        self.path = path
        self.weight = weight
    }

    public init?(argument: String) {
        guard let eq = argument.lastIndex(of: "="), eq != argument.startIndex,
              let weight = Double(argument[argument.index(after: eq)...]), weight.isFinite else { return nil }
        self.init(path: String(argument[..<eq]), weight: weight)
    }

    public static var defaultCompletionKind: CompletionKind { .file() }
}
