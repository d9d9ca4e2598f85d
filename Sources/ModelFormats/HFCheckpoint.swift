import Foundation
import JSON
import TensorKit

/// A Hugging Face checkpoint directory (the layout of google/gemma-2b and google/gemma-3-270m):
/// `config.json` plus either one `model.safetensors` or shards listed by
/// `model.safetensors.index.json`'s `weight_map` (tensor name -> shard file). Every shard is opened
/// and validated up front, and every tensor the index lists must be in its shard, so a partial
/// download is reported when the checkpoint is opened, naming the missing file or tensor.
public final class HFCheckpoint: TensorSource, @unchecked Sendable {
    public static let configName = "config.json"
    public static let singleFileName = "model.safetensors"
    public static let indexName = "model.safetensors.index.json"

    public let directory: String
    public let config: HFConfig
    /// The safetensors files, in shard-name order.
    public let shards: [SafetensorsFile]
    /// Tensor names ordered by shard, then by data offset.
    public let tensorNames: [String]
    private let shardOfTensor: [String: Int]

    public init(directory: String) throws {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.directory = dir
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFormatError.io(path: dir, message: "not a checkpoint directory (expected config.json and model.safetensors)")
        }
        config = try HFConfig.load(path: dir + "/" + Self.configName)

        let indexPath = dir + "/" + Self.indexName
        let singlePath = dir + "/" + Self.singleFileName
        if FileManager.default.fileExists(atPath: indexPath) {
            let weightMap = try Self.readWeightMap(indexPath)
            let shardNames = Array(Set(weightMap.values)).sorted()
            var shards = [SafetensorsFile]()
            for name in shardNames {
                let shardPath = dir + "/" + name
                guard FileManager.default.fileExists(atPath: shardPath) else {
                    throw ModelFormatError.io(path: shardPath, message: "shard listed in \(indexPath) is missing")
                }
                shards.append(try SafetensorsFile(path: shardPath))
            }
            let shardIndex = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
            var owner = [String: Int]()
            for (tensor, shardName) in weightMap {
                guard let i = shardIndex[shardName] else { continue }
                guard shards[i].tensorsByName[tensor] != nil else {
                    throw ModelFormatError.malformed(
                        path: shards[i].path, message: "tensor '\(tensor)' is listed for this shard in \(Self.indexName) but is not in it")
                }
                owner[tensor] = i
            }
            self.shards = shards
            self.shardOfTensor = owner
            self.tensorNames = shards.enumerated().flatMap { i, shard in
                shard.tensors.map(\.name).filter { owner[$0] == i }
            }
        } else if FileManager.default.fileExists(atPath: singlePath) {
            let file = try SafetensorsFile(path: singlePath)
            shards = [file]
            tensorNames = file.tensors.map(\.name)
            shardOfTensor = Dictionary(uniqueKeysWithValues: tensorNames.map { ($0, 0) })
        } else {
            throw ModelFormatError.io(path: dir, message: "neither \(Self.singleFileName) nor \(Self.indexName) found")
        }
    }

    /// The shard holding `name` and the tensor's place in it.
    public func tensorInfo(_ name: String) throws -> (file: SafetensorsFile, info: SafetensorsTensorInfo) {
        guard let i = shardOfTensor[name] else { throw ModelFormatError.missingTensor(path: directory, tensor: name) }
        return (shards[i], try shards[i].tensorInfo(name))
    }

    /// The tensor with its safetensors dtype (any dtype), PyTorch-order shape, and bytes in the map.
    public func tensor(_ name: String) throws -> (dtype: SafetensorsDType, shape: [Int], data: UnsafeRawPointer) {
        let (file, info) = try tensorInfo(name)
        return (info.dtype, info.shape, try file.tensorData(name))
    }

    /// The tensor as ggml F32/F16/BF16 data; other dtypes throw naming the shard and tensor.
    public func rawTensor(_ name: String) throws -> RawTensor {
        try tensorInfo(name).file.rawTensor(name)
    }

    private static func readWeightMap(_ path: String) throws -> [String: String] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelFormatError.io(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        let root: JSONValue
        do { root = try JSONDocument.parse(data) } catch {
            throw ModelFormatError.malformed(path: path, message: error.message)
        }
        guard case let .object(map)? = root["weight_map"] else {
            throw ModelFormatError.malformed(path: path, message: "missing object 'weight_map'")
        }
        var out = [String: String]()
        for (tensor, value) in map {
            guard let shard = value.string else {
                throw ModelFormatError.malformed(path: path, message: "weight_map entry '\(tensor)' is not a file name")
            }
            // Shards live in the checkpoint directory; refuse names that would reach outside it.
            guard !shard.isEmpty, !shard.hasPrefix("/"), !shard.split(separator: "/").contains("..") else {
                throw ModelFormatError.malformed(path: path, message: "weight_map entry '\(tensor)' names shard '\(shard)' outside the checkpoint directory")
            }
            out[tensor] = shard
        }
        return out
    }
}
