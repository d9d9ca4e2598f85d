import ArgumentParser
import Foundation

/// `--model PATH`: the model a tool loads, a GGUF file or a Hugging Face checkpoint directory,
/// by default the installed one (`DefaultModel`).
public struct ModelOption: ParsableArguments {
    @Option(help: ArgumentHelp("GGUF file or Hugging Face checkpoint directory (default: the installed Gemma 3 270M).", valueName: "path"))
    public var model: String?

    public init() {}

    public init(model: String?) { self.model = model }

    /// The given path, or the default model's.
    public var path: String { model ?? DefaultModel.path }

    /// `path`, checked when it is the default: a default model that is not installed is a usage
    /// error that says how to install it.
    public func checkedPath() throws -> String {
        if model == nil, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("the default model is not installed at \(path); run scripts/setup or pass --model")
        }
        return path
    }
}

/// The seed a tool uses when none is given (orpo-pairs' shuffle and draw): one value across the
/// tools, 42, the default of TRL's trainer, which orpo-train's settings (Training) start from too.
public enum DefaultSeed {
    public static let value: UInt64 = 42
}
