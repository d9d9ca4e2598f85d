import Adapters
import Foundation
import Gemma
import ModelFormats
import TensorKit

/// Writes a model (with its adapter merged) as a Hugging Face Gemma 3 checkpoint directory that
/// transformers' `AutoModelForCausalLM.from_pretrained` and gemma-infer load: `config.json`
/// (`HFConfig`, the type the loader reads) and one `model.safetensors` with transformers' tensor names.
///
/// Conversions from the loaded weights: quantized tensors (the embedding, unadapted layers) are
/// dequantized; RMSNorm weights go back from the stored 1 + w to transformers' w (docs/gemma.md,
/// "RMSNorm"). The tokenizer files of a Hugging Face base are copied; a GGUF base has none to copy
/// (its vocabulary lives in GGUF metadata), so the directory then holds no tokenizer and needs one
/// added (from the base model's Hugging Face repository) before transformers can tokenize text
/// with it.
///
/// The directory is assembled under a temporary name beside the destination and renamed into place
/// when complete; an existing destination is replaced only then. It holds `MergeOutput.markerFile`,
/// which lets a later merge replace it.
public enum HFCheckpointExporter {
    /// Tokenizer and generation files copied from a Hugging Face base, when present.
    public static let tokenizerFiles = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
        "added_tokens.json", "generation_config.json", "chat_template.jinja",
    ]

    /// `type` is .f32 or .f16 (safetensors has no Q8_0). Returns the tokenizer files copied.
    @discardableResult
    public static func write(
        model: GemmaModel, tokenizerDirectory: String?, type: MergedWeightType, to directory: String,
        progress: @escaping (String) -> Void = { _ in }
    ) throws -> [String] {
        let dtype = try safetensorsType(for: type)
        let w = model.weights
        let tied = w.output.data == w.embedding.data
        guard model.config.architecture == .gemma3 else {
            throw MergeError.unsupported(
                source: model.source,
                message: "writing a Hugging Face checkpoint needs a Gemma 3 model, this is \(model.config.architecture.rawValue)")
        }
        let config = HFConfig(model.config, tiedEmbeddings: tied, torchDtype: dtype == .f32 ? "float32" : "float16")

        let fm = FileManager.default
        let destination = URL(fileURLWithPath: directory)
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: false) } catch {
            throw MergeError.io(path: temporary.path, message: "cannot create directory: \(error.localizedDescription)")
        }
        PendingOutputs.add(temporary.path)
        var committed = false
        defer {
            if !committed { try? fm.removeItem(at: temporary) }
            PendingOutputs.remove(temporary.path)
        }

        do { try Data(config.jsonText().utf8).write(to: temporary.appendingPathComponent(HFCheckpoint.configName)) } catch {
            throw MergeError.io(path: directory + "/" + HFCheckpoint.configName, message: "cannot write: \(error.localizedDescription)")
        }
        do {
            try Data(MergeOutput.markerText.utf8).write(to: temporary.appendingPathComponent(MergeOutput.markerFile))
        } catch {
            throw MergeError.io(path: directory + "/" + MergeOutput.markerFile, message: "cannot write: \(error.localizedDescription)")
        }
        var writer = SafetensorsWriter()
        writer.setMetadata("format", "pt")
        try addTensors(of: model, tied: tied, type: type, dtype: dtype, to: &writer, progress: progress)
        try writer.write(to: temporary.appendingPathComponent(HFCheckpoint.singleFileName).path)

        var copied: [String] = []
        if let tokenizerDirectory {
            for name in tokenizerFiles where fm.fileExists(atPath: tokenizerDirectory + "/" + name) {
                do {
                    try fm.copyItem(atPath: tokenizerDirectory + "/" + name, toPath: temporary.appendingPathComponent(name).path)
                } catch {
                    throw MergeError.io(path: tokenizerDirectory + "/" + name, message: "cannot copy: \(error.localizedDescription)")
                }
                copied.append(name)
            }
        }
        try OutputLocation.replace(directory, with: temporary.path)
        committed = true
        return copied
    }

    /// The safetensors dtype of `type`; Q8_0 has none.
    public static func safetensorsType(for type: MergedWeightType) throws -> SafetensorsDType {
        switch type {
        case .f32: return .f32
        case .f16: return .f16
        case .q8_0:
            throw MergeError.invalidArgument("--type q8_0 is for GGUF output only; a Hugging Face checkpoint takes f32 or f16")
        }
    }

    /// Every tensor under transformers' name, produced one at a time while the file is written.
    static func addTensors(of model: GemmaModel, tied: Bool, type: MergedWeightType, dtype: SafetensorsDType,
                           to writer: inout SafetensorsWriter, progress: @escaping (String) -> Void) throws {
        let c = model.config, w = model.weights
        let naming = TensorNaming.huggingFace(prefix: "")

        func matrix(_ name: String, _ m: QuantizedMatrix) throws {
            try writer.addTensor(name: name, dtype: dtype, shape: [m.rows, m.cols]) { out in
                var values = [Float](repeating: 0, count: m.rows * m.cols)
                values.withUnsafeMutableBufferPointer { m.dequantize(into: $0.baseAddress!) }
                try values.withUnsafeBufferPointer { try type.encode($0.baseAddress!, rows: m.rows, cols: m.cols, into: out) }
            }
        }
        func norm(_ name: String, _ onePlusW: [Float]) throws {
            try writer.addTensor(name: name, dtype: dtype, shape: [onePlusW.count]) { out in
                let values = onePlusW.map { $0 - 1 }
                try values.withUnsafeBufferPointer { try type.encode($0.baseAddress!, rows: 1, cols: values.count, into: out) }
            }
        }
        func linear(_ name: String, _ lin: Linear) throws {
            try writer.addTensor(name: name, dtype: dtype, shape: [lin.outFeatures, lin.inFeatures]) { out in
                if lin.lora != nil { progress("\(name): merging") }
                let values = lin.mergedWeight()
                try values.withUnsafeBufferPointer {
                    try type.encode($0.baseAddress!, rows: lin.outFeatures, cols: lin.inFeatures, into: out)
                }
            }
        }

        try matrix(naming.embedding(), w.embedding)
        for (i, layer) in w.layers.enumerated() {
            func n(_ role: LayerTensor) -> String { naming.layer(i, role, architecture: c.architecture) }
            try norm(n(.attnNorm), layer.attnNorm)
            for role in LayerTensor.linearRoles {
                if let lin = layer[linear: role] { try linear(n(role), lin) }
            }
            if let v = layer.qNorm { try norm(n(.qNorm), v) }
            if let v = layer.kNorm { try norm(n(.kNorm), v) }
            if let v = layer.postAttnNorm { try norm(n(.postAttnNorm), v) }
            try norm(n(.ffnNorm), layer.ffnNorm)
            if let v = layer.postFfnNorm { try norm(n(.postFfnNorm), v) }
        }
        try norm(naming.outputNorm(), w.outputNorm)
        if !tied { try matrix(naming.output(), w.output) }
    }
}
