import Foundation
import ModelFormats
import TensorKit
import Tokenizers

/// A model ready to generate: weights, tokenizer and generator, with the names records report.
public final class LoadedModel: @unchecked Sendable {
    public let model: GemmaModel
    public let tokenizer: any TextTokenizer
    public let generator: Generator
    /// What output records call the model: the file or directory name without extension, after
    /// following symbolic links (a server started on `current.gguf -> banking-v3.gguf` reports
    /// banking-v3, and the new name once the link is moved and the model reloaded).
    public let name: String
    public let path: String
    /// The most bytes of text one token stands for: a text of n bytes needs at least
    /// n / longestTokenBytes tokens, which bounds a prompt's length before it is tokenized.
    /// Worked out over the vocabulary on first use (only prompts longer than the context need it).
    public var longestTokenBytes: Int {
        longestLock.lock()
        defer { longestLock.unlock() }
        if let longest { return longest }
        let found = max(1, (0..<tokenizer.vocabularySize).reduce(0) { max($0, tokenizer.tokenToBytes($1).count) })
        longest = found
        return found
    }
    private var longest: Int?
    private let longestLock = NSLock()

    public init(model: GemmaModel, tokenizer: any TextTokenizer, name: String, path: String) {
        self.model = model
        self.tokenizer = tokenizer
        self.generator = Generator(model: model, tokenizer: tokenizer)
        self.name = name
        self.path = path
    }
}

/// Opens GGUF files (llama.cpp's format, quantized or not) and Hugging Face checkpoint directories
/// (`config.json`, `model.safetensors` or shards with `model.safetensors.index.json`,
/// `tokenizer.json`: the layout of google/gemma-2b).
public enum ModelLoader {
    /// Model and tokenizer.
    public static func load(path: String, pool: ComputePool, precision: MatmulPrecision = .fast) throws -> LoadedModel {
        let name = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingPathExtension().lastPathComponent
        if try isDirectory(path) {
            let model = try loadModel(path: path, pool: pool, precision: precision)
            let tokenizerPath = path + "/tokenizer.json"
            guard FileManager.default.fileExists(atPath: tokenizerPath) else {
                throw GemmaError.invalidConfig(source: path, message: "no tokenizer.json in the checkpoint directory")
            }
            let tokenizer = try HuggingFaceTokenizer(path: tokenizerPath)
            try check(tokenizer, fits: model.config, source: path)
            return LoadedModel(model: model, tokenizer: tokenizer, name: name, path: path)
        }
        let file = try GGUFFile(path: path)
        let model = try model(gguf: file, pool: pool, precision: precision)
        let tokenizer = try SentencePieceTokenizer(gguf: file)
        try check(tokenizer, fits: model.config, source: path)
        return LoadedModel(model: model, tokenizer: tokenizer, name: name, path: path)
    }

    /// The weights alone (no tokenizer needed): for scoring token ids, merging and training.
    public static func loadModel(path: String, pool: ComputePool, precision: MatmulPrecision = .fast) throws -> GemmaModel {
        if try isDirectory(path) {
            // The checkpoint reads config.json once, as HFConfig; the engine's configuration follows from it.
            let checkpoint = try HFCheckpoint(directory: path)
            let config = try self.config(checkpoint, directory: path)
            let names = Set(checkpoint.tensorNames)
            let prefix = ["", "language_model.", "model.language_model."].first {
                names.contains($0 + "model.embed_tokens.weight")
            }
            guard let prefix else { throw GemmaError.missingTensor(source: path, name: "model.embed_tokens.weight") }
            let weights = try GemmaWeights(config: config, from: checkpoint, name: path,
                                           naming: .huggingFace(prefix: prefix))
            return GemmaModel(config: config, weights: weights, source: path, pool: pool, precision: precision)
        }
        return try model(gguf: try GGUFFile(path: path), pool: pool, precision: precision)
    }

    /// The configuration alone (layer count and shapes), without reading the weights: from a GGUF
    /// file's metadata or a checkpoint directory's config.json.
    public static func loadConfig(path: String) throws -> GemmaConfig {
        if try isDirectory(path) { return try config(try HFCheckpoint(directory: path), directory: path) }
        return try GemmaConfig(gguf: try GGUFFile(path: path))
    }

    /// A checkpoint's configuration, its layer count checked against the tensors present (the GGUF
    /// initializer checks the same).
    static func config(_ checkpoint: HFCheckpoint, directory: String) throws -> GemmaConfig {
        let configPath = directory + "/" + HFCheckpoint.configName
        try GemmaConfig.checkLayerCount(checkpoint.config.numHiddenLayers, key: "num_hidden_layers",
                                        tensorCount: checkpoint.tensorNames.count, source: configPath)
        return try GemmaConfig(huggingFace: checkpoint.config, source: configPath)
    }

    static func model(gguf file: GGUFFile, pool: ComputePool, precision: MatmulPrecision) throws -> GemmaModel {
        let config = try GemmaConfig(gguf: file)
        let weights = try GemmaWeights(config: config, from: file, name: file.path, naming: .gguf)
        return GemmaModel(config: config, weights: weights, source: file.path, pool: pool, precision: precision)
    }

    static func isDirectory(_ path: String) throws -> Bool {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw GemmaError.invalidConfig(source: path, message: "no such file or directory")
        }
        return isDir.boolValue
    }

    static func check(_ tokenizer: any TextTokenizer, fits config: GemmaConfig, source: String) throws {
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw GemmaError.invalidConfig(
                source: source,
                message: "the tokenizer has \(tokenizer.vocabularySize) tokens but the embedding only \(config.vocabularySize) rows")
        }
    }
}
