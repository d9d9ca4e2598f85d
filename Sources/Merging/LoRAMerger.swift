import Adapters
import Foundation
import Gemma
import ModelFormats
import TensorKit

/// lora-merge's work: load a base model, apply a PEFT adapter to it, and write the merged model as
/// a GGUF file (when the output ends in `.gguf`) or a Hugging Face checkpoint directory.
public struct LoRAMerger {
    public var basePath: String
    public var adapterPath: String
    public var outputPath: String
    public var type: MergedWeightType
    public var threads: Int
    /// Replace whatever is at `outputPath`, not only an earlier output of lora-merge.
    public var force: Bool

    public init(basePath: String, adapterPath: String, outputPath: String, type: MergedWeightType = .f32,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, force: Bool = false) {
        self.force = force
        self.basePath = basePath
        self.adapterPath = adapterPath
        self.outputPath = outputPath
        self.type = type
        self.threads = threads
    }

    public var writesGGUF: Bool { outputPath.lowercased().hasSuffix(".gguf") }

    /// What was merged, for the closing message.
    public struct Summary: Sendable, Equatable {
        public var adapterName: String
        public var mergedTensors: Int
        public var copiedTokenizerFiles: [String]
    }

    public func run(progress: @escaping (String) -> Void = { _ in }) throws -> Summary {
        // Fail on a type safetensors cannot hold before spending time on loading.
        if !writesGGUF { _ = try HFCheckpointExporter.safetensorsType(for: type) }
        try MergeOutput.checkReplaceable(outputPath, gguf: writesGGUF, force: force)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: basePath, isDirectory: &isDirectory) else {
            throw MergeError.io(path: basePath, message: "no such file or directory")
        }
        let baseGGUF = isDirectory.boolValue ? nil : try GGUFFile(path: basePath)
        if writesGGUF, baseGGUF == nil {
            throw MergeError.invalidArgument(
                "\(basePath): writing GGUF needs a GGUF base (its metadata and vocabulary are copied); write a Hugging Face directory instead")
        }

        progress("loading \(basePath)")
        let model = try ModelLoader.loadModel(path: basePath, pool: try ComputePool(threads: threads), precision: .exact)
        progress("applying \(adapterPath)")
        let adapter = try AdapterLoader.apply(adapterPath, to: model)
        let name = AdapterLoader.adapterName(path: adapterPath)
        let merged = adapter.modules.count

        if writesGGUF, let baseGGUF {
            try MergedGGUFWriter.write(base: baseGGUF, model: model, adapterName: name, type: type,
                                       to: outputPath, progress: progress)
            return Summary(adapterName: name, mergedTensors: merged, copiedTokenizerFiles: [])
        }
        let copied = try HFCheckpointExporter.write(
            model: model, tokenizerDirectory: isDirectory.boolValue ? basePath : nil, type: type,
            to: outputPath, progress: progress)
        return Summary(adapterName: name, mergedTensors: merged, copiedTokenizerFiles: copied)
    }
}
