import Archive
import Foundation
import Gemma
import ModelFormats

extension PEFTAdapter {
    /// What is read from an adapter archive (documented in gemma-infer(1), lora-merge(1) and
    /// judge(1), "LIMITS"): the two members, at the archive's root or in one directory, each within
    /// its limit; other members are skipped unread and nothing is written to disk.
    public enum ArchiveLimits {
        /// `adapter_config.json`: a few hundred bytes in practice.
        public static let configBytes = 1 << 20
        /// `adapter_model.safetensors`: rank-64 factors of every linear layer of a 27B Gemma take
        /// about 1 GiB in F32.
        public static let weightsBytes = 4 << 30
    }

    static func readArchive(_ path: String, model: GemmaConfig) throws -> PEFTAdapter {
        let reader = try TarGzReader(path: path)
        // Member name → bytes, for the two wanted base names in the root or a first-level directory.
        var configs: [String: [UInt8]] = [:]
        var weights: [String: [UInt8]] = [:]
        while let member = try reader.next() {
            guard member.kind == .file else { continue }
            // "./name" is "name": tar writes either for the same file.
            let parts = member.name.split(separator: "/").filter { $0 != "." }
            let name = parts.joined(separator: "/")
            guard parts.count <= 2, let base = parts.last.map(String.init) else { continue }
            let limit: Int
            switch base {
            case configFile: limit = ArchiveLimits.configBytes
            case weightsFile: limit = ArchiveLimits.weightsBytes
            default: continue
            }
            guard member.size <= limit else {
                throw AdapterError.file(
                    path: path + "/" + member.name,
                    message: "is \(member.size) bytes, over the \(limit)-byte limit for \(base) in an adapter archive")
            }
            // A member stored twice (tar allows it; extracting keeps the last) is ambiguous: refused.
            guard configs[name] == nil, weights[name] == nil else {
                throw AdapterError.file(path: path + "/" + name, message: "is in the archive twice; which one is the adapter's is unclear")
            }
            let bytes = try reader.readData()
            if base == configFile { configs[name] = bytes } else { weights[name] = bytes }
        }
        // The adapter's directory: the root's config if there is one, else the only directory's.
        let chosen = configs[configFile] != nil ? [configFile] : Array(configs.keys)
        guard chosen.count == 1, let configName = chosen.first, let configBytes = configs[configName] else {
            throw AdapterError.file(path: path, message: "the archive holds no single \(configFile)")
        }
        let directory = String(configName.dropLast(configFile.count))  // "" or "name/"
        let weightsName = directory + weightsFile
        let config = try AdapterConfig.decode(Data(configBytes), path: path + "/" + configName)
        let weightsPath = path + "/" + weightsName
        guard let weightsBytes = weights[weightsName] else {
            throw AdapterError.file(path: weightsPath, message: "missing (a PEFT adapter needs \(weightsFile))")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath, contents: weightsBytes) } catch {
            throw AdapterError.file(path: weightsPath, message: "\(error)")
        }
        return try decode(config: config, weights: file, weightsPath: weightsPath, model: model)
    }
}
