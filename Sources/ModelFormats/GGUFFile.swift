import TensorKit

/// A GGUF model file, memory-mapped and fully validated when opened (follows docs/gguf.md and ggml's
/// `gguf.c` reader checks). Versions 2 and 3 are read (they share one layout); version 1, with its
/// 32-bit counts, is refused with a message saying so.
///
/// Opening never crashes on a corrupt file: every count is checked against what the rest of the file
/// can hold before anything is allocated, and every tensor's data range is checked against the file
/// size, so later reads through `tensorData` are in bounds.
public final class GGUFFile: TensorSource, @unchecked Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let defaultAlignment = 32
    /// ggml's `GGML_MAX_DIMS`.
    public static let maxDimensions = 4

    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Element types of the top-level arrays that are empty (the value cannot show them), so that a
    /// rewrite of the file keeps them.
    public let emptyArrayElementTypes: [String: GGUFValueType]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public var tensorsByName: [String: GGUFTensorInfo] { table.byName }
    public let alignment: Int
    /// Absolute offset of the data section (tensor offsets are stored relative to it).
    public let dataOffset: Int

    private let file: MappedFile
    private let table: TensorTable<GGUFTensorInfo>

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        var cursor = ByteCursor(file: file)

        try cursor.need(4, "the magic bytes \"GGUF\"")
        let magicBytes = Array(UnsafeRawBufferPointer(start: file.base, count: 4))
        guard magicBytes == Self.magic else {
            throw ModelFormatError.badMagic(path: path, found: Self.describeMagic(magicBytes))
        }
        try cursor.skip(4, "the magic bytes")
        let version = try cursor.read(UInt32.self, "the format version")
        try Self.checkVersion(version, path: path)
        self.version = version

        // Each tensor info takes at least: name length 8, n_dims 4, type 4, offset 8.
        let tensorCount = try cursor.readCount("the tensor count", minimumSize: 24)
        // Each KV pair takes at least: key length 8, type 4, one byte of value.
        let kvCount = try cursor.readCount("the metadata count", minimumSize: 13)

        var metadata = [String: GGUFValue](minimumCapacity: kvCount)
        var keys = [String]()
        keys.reserveCapacity(kvCount)
        var emptyArrayTypes = [String: GGUFValueType]()
        for index in 0..<kvCount {
            let key = try cursor.readString("metadata key #\(index)")
            let valueOffset = cursor.offset
            let value = try Self.readValue(&cursor, key: key)
            if case let .array(elements) = value, elements.isEmpty {
                // Layout: value type (u32), element type (u32), count (u64); all read successfully above.
                let raw = UInt32(littleEndian: file.base.loadUnaligned(fromByteOffset: valueOffset + 4, as: UInt32.self))
                emptyArrayTypes[key] = GGUFValueType(rawValue: raw)
            }
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw ModelFormatError.malformed(path: path, message: "metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys
        self.emptyArrayElementTypes = emptyArrayTypes

        let alignment = try Self.alignment(from: metadata, path: path)
        self.alignment = alignment

        var rawInfos = [(name: String, shape: [Int], type: GGMLType, relativeOffset: Int, byteCount: Int)]()
        rawInfos.reserveCapacity(tensorCount)
        var seen = Set<String>(minimumCapacity: tensorCount)
        for index in 0..<tensorCount {
            let info = try Self.readTensorInfo(&cursor, index: index, alignment: alignment)
            guard seen.insert(info.name).inserted else {
                throw ModelFormatError.malformed(path: path, message: "tensor '\(info.name)' appears twice")
            }
            rawInfos.append(info)
        }

        // The data section starts at the next multiple of the alignment.
        let (padded, overflow) = cursor.offset.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw ModelFormatError.malformed(path: path, message: "data section offset overflows")
        }
        let dataOffset = padded / alignment * alignment
        self.dataOffset = dataOffset
        if tensorCount > 0, dataOffset > file.count {
            throw ModelFormatError.truncated(path: path, offset: file.count, needed: "the tensor data section at byte \(dataOffset)")
        }

        var infos = [GGUFTensorInfo]()
        infos.reserveCapacity(tensorCount)
        for raw in rawInfos {
            let (absolute, overflow) = dataOffset.addingReportingOverflow(raw.relativeOffset)
            guard !overflow, file.bytes(at: absolute, length: raw.byteCount) != nil else {
                throw ModelFormatError.tensorOutOfRange(
                    path: path, tensor: raw.name, offset: overflow ? Int.max : absolute,
                    length: raw.byteCount, fileSize: file.count)
            }
            infos.append(GGUFTensorInfo(name: raw.name, shape: raw.shape, type: raw.type, offset: absolute, byteCount: raw.byteCount))
        }
        try Self.checkNoOverlap(infos, path: path)
        self.tensors = infos
        self.table = TensorTable(file: file, tensors: infos)
    }

    /// `general.architecture`, e.g. "gemma3".
    public var architecture: String? { metadata["general.architecture"]?.string }

    /// Size of the mapped file in bytes.
    public var fileSize: Int { file.count }

    // MARK: - Tensors

    public func tensorInfo(_ name: String) throws -> GGUFTensorInfo { try table.info(name) }

    /// A pointer to the tensor's bytes inside the map; valid while this object is alive.
    public func tensorData(_ name: String) throws -> UnsafeRawPointer { try table.pointer(name) }

    /// The tensor's bytes inside the map; valid while this object is alive.
    public func tensorBytes(_ name: String) throws -> UnsafeRawBufferPointer { try table.bytes(name) }

    public var tensorNames: [String] { tensors.map(\.name) }

    public func rawTensor(_ name: String) throws -> RawTensor {
        let info = try tensorInfo(name)
        return RawTensor(type: info.type, shape: info.torchShape, data: try table.pointer(name), byteCount: info.byteCount)
    }

    // MARK: - Typed metadata

    public func metadataValue(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw ModelFormatError.missingMetadata(path: path, key: key) }
        return value
    }

    /// An integer of any width; throws naming the key and the type found otherwise.
    public func metadataInt(_ key: String) throws -> Int { try metadata(key, "an integer", \.int) }

    /// A float (or an integer, as converters write some hyperparameters either way).
    public func metadataDouble(_ key: String) throws -> Double { try metadata(key, "a number", \.double) }

    public func metadataString(_ key: String) throws -> String { try metadata(key, "a string", \.string) }

    public func metadataBool(_ key: String) throws -> Bool { try metadata(key, "a bool", \.bool) }

    public func metadataArray(_ key: String) throws -> [GGUFValue] { try metadata(key, "an array", \.array) }

    private func metadata<T>(_ key: String, _ expected: String, _ extract: (GGUFValue) -> T?) throws -> T {
        let value = try metadataValue(key)
        guard let v = extract(value) else {
            throw ModelFormatError.wrongMetadataType(path: path, key: key, expected: expected, found: value.typeDescription)
        }
        return v
    }

    // MARK: - Parsing

    private static func checkVersion(_ version: UInt32, path: String) throws {
        switch version {
        case 2, 3:
            return
        case 1:
            throw ModelFormatError.malformed(
                path: path,
                message: "GGUF version 1 (32-bit counts, from 2023) is not supported; re-convert the model with a current llama.cpp")
        default:
            if version & 0xFFFF == 0, version.byteSwapped <= 3 {
                throw ModelFormatError.malformed(
                    path: path, message: "GGUF version field reads \(version): the file looks big-endian, which is not supported")
            }
            throw ModelFormatError.unsupportedVersion(path: path, version: version)
        }
    }

    private static func describeMagic(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { String($0, radix: 16, uppercase: false) }.map { $0.count == 1 ? "0" + $0 : $0 }
        return hex.joined(separator: " ")
    }

    private static func alignment(from metadata: [String: GGUFValue], path: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case let .uint32(a) = value else {
            throw ModelFormatError.wrongMetadataType(path: path, key: "general.alignment", expected: "u32", found: value.typeDescription)
        }
        guard a > 0, a & (a - 1) == 0 else {
            throw ModelFormatError.malformed(path: path, message: "general.alignment is \(a), not a power of two")
        }
        return Int(a)
    }

    private static func readValue(_ cursor: inout ByteCursor, key: String) throws -> GGUFValue {
        let typeOffset = cursor.offset
        let rawType = try cursor.read(UInt32.self, "the type of metadata key '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw ModelFormatError.malformed(
                path: cursor.path, message: "metadata key '\(key)' has unknown value type \(rawType) (byte \(typeOffset))")
        }
        return try readValue(&cursor, type: type, key: key, depth: 0)
    }

    /// Nested arrays deeper than this are refused: real files nest at most once, and a corrupt file
    /// must not recurse until the stack runs out.
    private static let maxArrayDepth = 8

    private static func readValue(_ cursor: inout ByteCursor, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "the value of metadata key '\(key)'"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what))
        case .int8: return .int8(try cursor.read(Int8.self, what))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what))
        case .int16: return .int16(try cursor.read(Int16.self, what))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what))
        case .int32: return .int32(try cursor.read(Int32.self, what))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what))
        case .int64: return .int64(try cursor.read(Int64.self, what))
        case .float32: return .float32(try cursor.readFloat(what))
        case .float64: return .float64(try cursor.readDouble(what))
        case .bool:
            let offset = cursor.offset
            let b = try cursor.read(UInt8.self, what)
            guard b <= 1 else {
                throw ModelFormatError.malformed(path: cursor.path, message: "metadata key '\(key)' has bool value \(b) at byte \(offset), expected 0 or 1")
            }
            return .bool(b == 1)
        case .string:
            return .string(try cursor.readString(what))
        case .array:
            guard depth < maxArrayDepth else {
                throw ModelFormatError.malformed(path: cursor.path, message: "metadata key '\(key)' nests arrays more than \(maxArrayDepth) deep")
            }
            let typeOffset = cursor.offset
            let rawType = try cursor.read(UInt32.self, "the element type of array '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw ModelFormatError.malformed(
                    path: cursor.path, message: "array '\(key)' has unknown element type \(rawType) (byte \(typeOffset))")
            }
            let count = try cursor.readCount("the length of array '\(key)'", minimumSize: elementType.minimumSize)
            return .array(try readElements(&cursor, type: elementType, count: count, key: key, depth: depth))
        }
    }

    /// Array elements. Strings and the common numeric types get tight loops, since vocabularies
    /// (262144 tokens, scores and types) dominate the metadata of every model file.
    private static func readElements(_ cursor: inout ByteCursor, type: GGUFValueType, count: Int, key: String, depth: Int) throws -> [GGUFValue] {
        var out = [GGUFValue]()
        out.reserveCapacity(count)
        let what = "element of array '\(key)'"
        switch type {
        case .string:
            for _ in 0..<count { out.append(.string(try cursor.readString(what))) }
        case .float32:
            for _ in 0..<count { out.append(.float32(try cursor.readFloat(what))) }
        case .int32:
            for _ in 0..<count { out.append(.int32(try cursor.read(Int32.self, what))) }
        default:
            for _ in 0..<count { out.append(try readValue(&cursor, type: type, key: key, depth: depth + 1)) }
        }
        return out
    }

    private static func readTensorInfo(_ cursor: inout ByteCursor, index: Int, alignment: Int)
        throws -> (name: String, shape: [Int], type: GGMLType, relativeOffset: Int, byteCount: Int)
    {
        let path = cursor.path
        let name = try cursor.readString("the name of tensor #\(index)")
        let nDims = try cursor.read(UInt32.self, "the dimension count of tensor '\(name)'")
        guard nDims <= maxDimensions else {
            throw ModelFormatError.malformed(path: path, message: "tensor '\(name)' has \(nDims) dimensions, at most \(maxDimensions) are allowed")
        }
        var shape = [Int]()
        var elements = 1
        for d in 0..<Int(nDims) {
            let raw = try cursor.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
            guard let n = Int(exactly: raw) else {
                throw ModelFormatError.malformed(path: path, message: "tensor '\(name)' dimension \(d) is \(raw), too large")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw ModelFormatError.malformed(path: path, message: "tensor '\(name)' shape \(shape + [n]) has more elements than can be counted")
            }
            elements = product
            shape.append(n)
        }
        let rawType = try cursor.read(UInt32.self, "the type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else {
            throw ModelFormatError.unknownTensorType(path: path, tensor: name, type: rawType)
        }
        guard type.isSupported else {
            throw ModelFormatError.unsupportedTensorType(path: path, tensor: name, type: type.description)
        }
        let rawOffset = try cursor.read(UInt64.self, "the data offset of tensor '\(name)'")
        guard let offset = Int(exactly: rawOffset), offset % alignment == 0 else {
            throw ModelFormatError.malformed(
                path: path, message: "tensor '\(name)' data offset \(rawOffset) is not a multiple of the alignment \(alignment)")
        }
        let cols = shape.first ?? 1
        guard cols % type.blockSize == 0 else {
            throw ModelFormatError.malformed(
                path: path, message: "tensor '\(name)' row length \(cols) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw ModelFormatError.malformed(path: path, message: "tensor '\(name)' shape \(shape) is too large to address")
        }
        return (name, shape, type, offset, byteCount)
    }

    private static func checkNoOverlap(_ infos: [GGUFTensorInfo], path: String) throws {
        let sorted = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw ModelFormatError.malformed(path: path, message: "tensors '\(a.name)' and '\(b.name)' overlap in the data section")
        }
    }
}
