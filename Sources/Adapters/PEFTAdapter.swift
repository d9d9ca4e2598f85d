import Archive
import Foundation
import Gemma
import ModelFormats
import TensorKit

/// A PEFT LoRA adapter (docs/peft.md): its `adapter_config.json` and, per layer, the factors of
/// each adapted linear layer as plain arrays, as GemmaModel applies them. What a trainer produces,
/// a server applies and lora-merge folds into the weights.
///
/// On disk it is a directory with `adapter_config.json` and `adapter_model.safetensors` (tensors
/// `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight` …, metadata
/// {"format": "pt"}), or the same two files in a `.tar.gz` archive.
public struct PEFTAdapter: Sendable {
    public var config: AdapterConfig
    /// layers[i][role]: the factors of layer i's `role` linear layer, when adapted.
    public var layers: [[LayerTensor: LoRAWeights]]

    public init(config: AdapterConfig, layers: [[LayerTensor: LoRAWeights]]) {
        self.config = config
        self.layers = layers
    }

    /// The largest bound on one weight's LoRA update an adapter may have when read (1e6: a
    /// trained adapter's updates are of the order of the weights, well below 1; far larger ones
    /// only come from a broken lora_alpha or broken factors, and overflow float32 in the products).
    public static let largestUpdate = 1e6

    /// Every adapted layer, in (layer, role) order.
    public var modules: [(layer: Int, role: LayerTensor, factors: LoRAWeights)] {
        layers.enumerated().flatMap { i, layer in
            LayerTensor.linearRoles.compactMap { role in layer[role].map { (i, role, $0) } }
        }
    }

    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"

    /// Where PEFT puts a Gemma causal LM's layers; multimodal Gemma 3 nests them one level deeper.
    public static let layerPrefixes = ["base_model.model.model.layers.", "base_model.model.model.language_model.layers."]

    /// PEFT's name of a LoRA factor ("A" or "B") of layer `i`'s `role`.
    public static func tensorName(layer i: Int, role: LayerTensor, factor: String,
                                  prefix: String = layerPrefixes[0]) -> String {
        let block = role == .gate || role == .up || role == .down ? "mlp" : "self_attn"
        return "\(prefix)\(i).\(block).\(role.peftModule ?? role.rawValue).lora_\(factor).weight"
    }

    public static func isArchive(_ path: String) -> Bool { path.hasSuffix(".tar.gz") || path.hasSuffix(".tgz") }

    /// Reads an adapter directory or `.tar.gz` and checks it fits `model`. From an archive only the
    /// two members are read, into memory, within `ArchiveLimits` (nothing is extracted).
    public static func read(path: String, model: GemmaConfig) throws -> PEFTAdapter {
        guard isArchive(path) else { return try readDirectory(path, model: model) }
        return try readArchive(path, model: model)
    }

    /// Writes the adapter's factors (not their gradients) as a PEFT directory, or as a `.tar.gz`
    /// when `path` ends so. Written under a hidden temporary name beside `path` and renamed into
    /// place when complete: a failed write (a full disk) leaves `path` as it was, never half-written.
    public static func write(_ adapter: PEFTAdapter, to path: String) throws {
        let temporary = OutputLocation.temporaryName(for: path)
        PendingOutputs.add(temporary)
        defer {
            try? FileManager.default.removeItem(atPath: temporary)  // gone after a successful rename
            PendingOutputs.remove(temporary)
        }
        if isArchive(path) {
            let staging = FileManager.default.temporaryDirectory
                .appendingPathComponent("adapter-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: staging) }
            try writeDirectory(adapter, to: staging)
            do { try TarGzWriter.write(directory: staging, to: temporary) } catch {
                throw AdapterError.file(path: path, message: "cannot write: \(error)")
            }
        } else {
            try writeDirectory(adapter, to: temporary)
        }
        do { try OutputLocation.replace(path, with: temporary) } catch let ModelFormatError.io(_, message) {
            throw AdapterError.file(path: path, message: message)
        }
    }

    /// Checks before a run that `write(_:to:)` can write at `path` (see `OutputLocation.checkWritable`)
    /// and may replace what is there: nothing, an empty directory, or an earlier adapter (a directory
    /// holding `adapter_config.json` and no files but an adapter's, or a gzip archive holding
    /// `adapter_config.json`). Anything else is refused unless `force`, so that a mistyped output
    /// never deletes someone's data; the working directory (or one holding it) never is replaced.
    public static func checkWritable(_ path: String, force: Bool = false) throws {
        do { try OutputLocation.checkWritable(path, directory: !isArchive(path)) } catch let ModelFormatError.io(_, message) {
            throw AdapterError.file(path: path, message: "cannot be written: \(message)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            let target = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).resolvingSymlinksInPath().path
            if here == target || here.hasPrefix(target.hasSuffix("/") ? target : target + "/") {
                throw AdapterError.file(path: path, message: "is the working directory or holds it; choose another output")
            }
        }
        if force || isEarlierOutput(path, isDirectory: isDirectory.boolValue) { return }
        let what = isDirectory.boolValue ? "a directory that is not an adapter" : "a file that is not an adapter archive"
        throw AdapterError.file(path: path, message: "exists and is \(what); refusing to replace it (choose another output, or add --force)")
    }

    /// The files a PEFT adapter directory may hold besides its config and weights.
    static let adapterDirectoryFiles: Set<String> = [configFile, weightsFile, "adapter_model.bin", "README.md"]

    /// Whether `path` holds what a writer of adapters may replace: an empty directory, an adapter
    /// directory, or an archive with an adapter config in it.
    static func isEarlierOutput(_ path: String, isDirectory: Bool) -> Bool {
        if isDirectory {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
            return entries.isEmpty || (entries.contains(configFile) && entries.allSatisfy(adapterDirectoryFiles.contains))
        }
        // The member names only (headers, no data kept), as readArchive finds the config: in the root
        // or in a first-level directory.
        guard let reader = try? TarGzReader(path: path) else { return false }
        while let member = try? reader.next() {
            let parts = member.name.split(separator: "/")
            if member.kind == .file, parts.count <= 2, parts.last.map(String.init) == configFile { return true }
        }
        return false
    }

    static func readDirectory(_ directory: String, model: GemmaConfig) throws -> PEFTAdapter {
        let config = try AdapterConfig.read(path: directory + "/" + configFile)
        let weightsPath = directory + "/" + weightsFile
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw AdapterError.file(path: weightsPath, message: "missing (a PEFT adapter needs \(weightsFile))")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch {
            throw AdapterError.file(path: weightsPath, message: "\(error)")
        }
        return try decode(config: config, weights: file, weightsPath: weightsPath, model: model)
    }

    /// The factors `file` holds for `config`'s target modules, checked against `model`'s shapes;
    /// every value must be finite (a NaN or infinity is a corrupt file, refused naming the tensor).
    static func decode(config: AdapterConfig, weights file: SafetensorsFile, weightsPath: String,
                       model: GemmaConfig) throws -> PEFTAdapter {
        let roles = try config.targetRoles()
        let index = try PEFTTensorName.index(file.tensorNames, path: weightsPath, roles: roles, layerCount: model.layerCount)

        func factor(_ layer: Int, _ role: LayerTensor, _ f: String, rows: Int, cols: Int) throws -> [Float] {
            guard let name = index[PEFTTensorName(layer: layer, role: role, factor: f)] else {
                throw AdapterError.file(path: weightsPath, message: "tensor '\(tensorName(layer: layer, role: role, factor: f))' is missing")
            }
            do {
                let t = try file.rawTensor(name)
                guard t.shape == [rows, cols] else {
                    throw AdapterError.file(path: weightsPath, message: "tensor '\(name)' has shape \(t.shape), expected [\(rows), \(cols)]")
                }
                let m = try QuantizedMatrix(type: t.type, rows: rows, cols: cols, data: t.data)
                var values = [Float](repeating: 0, count: rows * cols)
                values.withUnsafeMutableBufferPointer { m.dequantize(into: $0.baseAddress!) }
                let nonFinite = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
                guard nonFinite == 0 else {
                    throw AdapterError.file(
                        path: weightsPath,
                        message: "tensor '\(name)' holds \(nonFinite) non-finite values (NaN or infinity); the file is corrupt")
                }
                return values
            } catch let e as AdapterError {
                throw e
            } catch {
                throw AdapterError.file(path: weightsPath, message: "tensor '\(name)': \(error)")
            }
        }

        var layers: [[LayerTensor: LoRAWeights]] = []
        for i in 0..<model.layerCount {
            var layer: [LayerTensor: LoRAWeights] = [:]
            for role in roles {
                guard let shape = model.linearShape(role) else { continue }
                let r = config.r
                let a = try factor(i, role, "A", rows: r, cols: shape.in)
                let b = try factor(i, role, "B", rows: shape.out, cols: r)
                let factors = LoRAWeights(rank: r, a: a, b: b, scale: config.scale)
                if let problem = Self.updateProblem(factors) {
                    throw AdapterError.file(path: weightsPath, message: "layer \(i) \(role): \(problem)")
                }
                layer[role] = factors
            }
            layers.append(layer)
        }
        return PEFTAdapter(config: config, layers: layers)
    }

    /// Why `f`'s update cannot be applied, or nil: |scale · (B A)[i, j]| <= |scale| · r · max|B| ·
    /// max|A|, and an update that could leave float32's range would make the merged weights (or the
    /// answers) infinite or NaN, so a bound beyond `largestUpdate` (or a non-finite one) is refused.
    static func updateProblem(_ f: LoRAWeights) -> String? {
        let largest = { (v: [Float]) in v.reduce(Float(0)) { max($0, abs($1)) } }
        let bound = Double(abs(f.scale)) * Double(f.rank) * Double(largest(f.b)) * Double(largest(f.a))
        guard bound.isFinite, bound <= largestUpdate else {
            return "the update lora_alpha/r · B · A may reach \(bound) " +
                "(scale \(f.scale), largest |B| \(largest(f.b)), largest |A| \(largest(f.a))), beyond " +
                "\(largestUpdate): the adapter would make the model's weights overflow"
        }
        return nil
    }

    static func writeDirectory(_ adapter: PEFTAdapter, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AdapterError.file(path: directory, message: "cannot create directory: \(OutputLocation.reason(error))")
        }
        var writer = SafetensorsWriter()
        writer.setMetadata("format", "pt")
        for m in adapter.modules {
            let f = m.factors
            try writer.addTensor(name: tensorName(layer: m.layer, role: m.role, factor: "A"),
                                 shape: [f.rank, f.inFeatures], floats: f.a)
            try writer.addTensor(name: tensorName(layer: m.layer, role: m.role, factor: "B"),
                                 shape: [f.outFeatures, f.rank], floats: f.b)
        }
        let weightsPath = directory + "/" + weightsFile
        do { try writer.write(to: weightsPath) } catch {
            throw AdapterError.file(path: weightsPath, message: "cannot write: \(error)")
        }
        try adapter.config.write(path: directory + "/" + configFile)
    }
}
