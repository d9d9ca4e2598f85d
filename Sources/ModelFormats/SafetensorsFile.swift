import JSON
import TensorKit

/// Where one tensor of a safetensors file lives.
public struct SafetensorsTensorInfo: TensorLocation, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// PyTorch order, outermost first (`[out, in]` for a linear weight).
    public let shape: [Int]
    /// Absolute offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file, memory-mapped and validated when opened (docs/safetensors.md, "Checks on
/// reading", which follows the reference `safetensors` crate): the header length must fit the file,
/// every tensor's byte range must lie inside the data buffer and agree with its shape and dtype, and
/// no two ranges may overlap.
public final class SafetensorsFile: TensorSource, @unchecked Sendable {
    /// The reference implementation refuses headers above 100 MB; real ones are a few hundred KB.
    public static let maxHeaderLength = 100_000_000

    public let path: String
    /// The `__metadata__` string map (e.g. `{"format": "pt"}`), empty when absent.
    public let metadata: [String: String]
    /// Tensors ordered by data offset.
    public let tensors: [SafetensorsTensorInfo]
    public var tensorsByName: [String: SafetensorsTensorInfo] { table.byName }
    /// Absolute offset of the data buffer: 8 + header length.
    public let dataOffset: Int

    private let table: TensorTable<SafetensorsTensorInfo>

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    /// A safetensors file already in memory (an archive member); errors name `path`.
    public convenience init(path: String, contents: [UInt8]) throws {
        try self.init(file: try MappedFile(path: path, contents: contents))
    }

    private init(file: MappedFile) throws {
        let path = file.path
        self.path = path
        var cursor = ByteCursor(file: file)
        let rawLength = try cursor.read(UInt64.self, "the 8-byte header length")
        guard rawLength <= Self.maxHeaderLength else {
            throw ModelFormatError.malformed(path: path, message: "header length \(rawLength) exceeds the \(Self.maxHeaderLength)-byte limit; this is not a safetensors file or it is corrupt")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= cursor.remaining else {
            throw ModelFormatError.truncated(path: path, offset: 8, needed: "a JSON header of \(rawLength) bytes (the file has \(file.count) bytes)")
        }
        guard headerLength >= 2 else {
            throw ModelFormatError.malformed(path: path, message: "header length \(headerLength) is too small for a JSON object")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(UnsafeBufferPointer(start: (file.base + 8).assumingMemoryBound(to: UInt8.self), count: headerLength))
        } catch let error as JSONParseError {
            throw ModelFormatError.malformed(path: path, message: "header is \(error.documentDescription)")
        }
        guard case let .object(header) = json else {
            throw ModelFormatError.malformed(path: path, message: "header is not a JSON object")
        }
        dataOffset = 8 + headerLength
        let bufferSize = file.count - dataOffset

        var metadata = [String: String]()
        if let raw = header["__metadata__"] {
            guard case let .object(map) = raw else {
                throw ModelFormatError.malformed(path: path, message: "__metadata__ is not a JSON object")
            }
            for (key, value) in map {
                guard let s = value.string else {
                    throw ModelFormatError.malformed(path: path, message: "__metadata__ key '\(key)' is not a string")
                }
                metadata[key] = s
            }
        }
        self.metadata = metadata

        var infos = [SafetensorsTensorInfo]()
        for (name, entry) in header where name != "__metadata__" {
            let info = try Self.tensorInfo(name: name, entry: entry, path: path, dataOffset: dataOffset, bufferSize: bufferSize)
            infos.append(info)
        }
        infos.sort { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (a, b) in zip(infos, infos.dropFirst()) where a.byteCount > 0 && b.byteCount > 0 && a.offset + a.byteCount > b.offset {
            throw ModelFormatError.malformed(path: path, message: "tensors '\(a.name)' and '\(b.name)' overlap in the data buffer")
        }
        tensors = infos
        table = TensorTable(file: file, tensors: infos)
    }

    public var tensorNames: [String] { tensors.map(\.name) }

    public func tensorInfo(_ name: String) throws -> SafetensorsTensorInfo { try table.info(name) }

    /// A pointer to the tensor's bytes inside the map; valid while this object is alive.
    public func tensorData(_ name: String) throws -> UnsafeRawPointer { try table.pointer(name) }

    /// The tensor's bytes inside the map; valid while this object is alive.
    public func tensorBytes(_ name: String) throws -> UnsafeRawBufferPointer { try table.bytes(name) }

    /// The tensor as F32/F16/BF16 ggml data; other dtypes throw naming the tensor and dtype.
    public func rawTensor(_ name: String) throws -> RawTensor {
        let info = try tensorInfo(name)
        guard let type = info.dtype.ggmlType else {
            throw ModelFormatError.unsupportedTensorType(path: path, tensor: name, type: "\(info.dtype.rawValue) (only F32, F16 and BF16 weights are used)")
        }
        return RawTensor(type: type, shape: info.shape, data: try table.pointer(name), byteCount: info.byteCount)
    }

    private static func tensorInfo(name: String, entry: JSONValue, path: String, dataOffset: Int, bufferSize: Int) throws -> SafetensorsTensorInfo {
        func bad(_ message: String) -> ModelFormatError {
            .malformed(path: path, message: "tensor '\(name)': \(message)")
        }
        guard case let .object(fields) = entry else { throw bad("entry is not a JSON object") }
        guard let dtypeName = fields["dtype"]?.string else { throw bad("missing string field 'dtype'") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw ModelFormatError.unsupportedTensorType(path: path, tensor: name, type: "dtype \(dtypeName)")
        }
        guard let rawShape = fields["shape"]?.array else { throw bad("missing array field 'shape'") }
        guard let shape = integers(rawShape), shape.allSatisfy({ $0 >= 0 }) else {
            throw bad("shape \(JSONValue.array(rawShape)) is not a list of non-negative integers")
        }
        guard let rawOffsets = fields["data_offsets"]?.array, let offsets = integers(rawOffsets), offsets.count == 2 else {
            throw bad("'data_offsets' is not a pair of integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= bufferSize else {
            throw ModelFormatError.tensorOutOfRange(path: path, tensor: name, offset: dataOffset + begin, length: end - begin, fileSize: dataOffset + bufferSize)
        }
        var bytes = dtype.size
        for n in shape {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: n)
            guard !overflow else { throw bad("shape \(shape) is too large to address") }
            bytes = p
        }
        guard bytes == end - begin else {
            throw bad("shape \(shape) of \(dtypeName) needs \(bytes) bytes but data_offsets [\(begin), \(end)) hold \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, offset: dataOffset + begin, byteCount: bytes)
    }

    /// The values as Ints when each is an integer literal; nil if any is not (1.5, 2.0, true, "3").
    private static func integers(_ values: [JSONValue]) -> [Int]? {
        var out = [Int]()
        for value in values {
            guard let number = value.number, number.isInteger, let n = number.int else { return nil }
            out.append(n)
        }
        return out
    }
}
