import Adapters
import Gemma
import ModelFormats
import TensorKit

/// Writes a base GGUF model with an adapter merged into it, as a GGUF file that llama.cpp and
/// gemma-infer load like the base.
///
/// Every tensor of the base is written, in the base's order. The adapted linear weights
/// (`blk.N.attn_q.weight` … with a LoRA set on the model) are merged in float32 and stored as the
/// chosen type; every other tensor (norms in F32, the token embedding, unadapted layers) is copied
/// byte for byte in its original type, so nothing the adapter does not touch loses precision. All
/// metadata and the vocabulary are copied; `general.name` says which adapter was merged, and
/// `general.file_type` is dropped because the file now mixes types (llama.cpp then reports the
/// types it finds). GGUFWriter keeps ggml's layout rules: 32-byte alignment of every tensor and
/// whole quantization blocks per row.
public enum MergedGGUFWriter {
    /// Metadata key naming the merged adapter (ignored by llama.cpp, kept for provenance).
    public static let adapterKey = "feedbackloop.merged_adapter"

    public static func write(
        base file: GGUFFile, model: GemmaModel, adapterName: String, type: MergedWeightType,
        to path: String, progress: @escaping (String) -> Void = { _ in }
    ) throws {
        let c = model.config
        var merged: [String: (layer: Int, role: LayerTensor)] = [:]
        for i in 0..<c.layerCount {
            for role in LayerTensor.linearRoles where model.weights.layers[i][linear: role]?.lora != nil {
                merged[TensorNaming.gguf.layer(i, role, architecture: c.architecture)] = (i, role)
            }
        }
        for name in merged.keys where file.tensorsByName[name] == nil {
            throw MergeError.unsupported(source: file.path, message: "tensor '\(name)' to merge into is missing")
        }

        var writer = GGUFWriter()
        if let alignment = file.metadata["general.alignment"] { try writer.setMetadata("general.alignment", alignment) }
        try writer.copyMetadata(from: file, excluding: ["general.alignment", "general.file_type", adapterKey])
        let baseName = file.metadata["general.name"]?.string ?? model.source
        try writer.setMetadata("general.name", .string("\(baseName) + \(adapterName)"))
        try writer.setMetadata(adapterKey, .string(adapterName))

        let total = file.tensors.count
        for (index, info) in file.tensors.enumerated() {
            let note = "[\(index + 1)/\(total)] \(info.name)"
            if let target = merged[info.name] {
                guard let lin = model.weights.layers[target.layer][linear: target.role] else { continue }
                let rows = lin.outFeatures, cols = lin.inFeatures
                guard info.shape == [cols, rows] else {
                    throw MergeError.unsupported(
                        source: file.path, message: "tensor '\(info.name)' has ggml shape \(info.shape), expected [\(cols), \(rows)]")
                }
                if type == .q8_0, cols % GGMLType.q8_0.blockSize != 0 {
                    throw MergeError.invalidArgument(
                        "tensor '\(info.name)': rows of \(cols) values cannot be stored as Q8_0 (blocks of 32); use --type f16 or f32")
                }
                try writer.addTensor(name: info.name, shape: info.shape, type: type.ggmlType) { out in
                    progress("\(note): merging into \(type.ggmlType)")
                    let w = lin.mergedWeight()
                    try w.withUnsafeBufferPointer { try type.encode($0.baseAddress!, rows: rows, cols: cols, into: out) }
                }
            } else {
                try writer.addTensor(name: info.name, shape: info.shape, type: info.type) { out in
                    out.copyMemory(from: try file.tensorBytes(info.name))
                }
            }
        }
        try writer.write(to: path)
    }
}
