import JSON
import TensorKit

/// Builds a safetensors file (docs/safetensors.md, "Writing"; the layout of the reference
/// `safetensors` crate): u64 header length, a JSON header listing tensors in the order they were
/// added with contiguous `data_offsets`, padded with spaces so the data buffer starts on an 8-byte
/// boundary, then the bytes.
/// `__metadata__` carries string pairs; PEFT adapters need `{"format": "pt"}`. The write is atomic.
public struct SafetensorsWriter {
    private var metadataKeys = [String]()
    private var metadataValues = [String: String]()
    private var tensors = [PendingTensor]()
    private var names = Set<String>()

    private struct PendingTensor {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let byteCount: Int
        let fill: (UnsafeMutableRawBufferPointer) throws -> Void
    }

    public init() {}

    /// Sets a `__metadata__` entry; a key set twice keeps its first position.
    public mutating func setMetadata(_ key: String, _ value: String) {
        if metadataValues.updateValue(value, forKey: key) == nil { metadataKeys.append(key) }
    }

    /// Adds a tensor whose bytes `fill` produces at write time into a zeroed buffer of exactly the
    /// tensor's size. `shape` is in PyTorch order.
    public mutating func addTensor(name: String, dtype: SafetensorsDType, shape: [Int],
                                   fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        guard !name.isEmpty, name != "__metadata__" else {
            throw ModelFormatError.invalidArgument(message: "safetensors tensor name '\(name)' is reserved or empty")
        }
        guard !names.contains(name) else {
            throw ModelFormatError.invalidArgument(message: "safetensors tensor '\(name)' added twice")
        }
        guard let bytes = Self.byteCount(dtype: dtype, shape: shape) else {
            throw ModelFormatError.invalidArgument(message: "safetensors tensor '\(name)' has invalid shape \(shape)")
        }
        names.insert(name)
        tensors.append(PendingTensor(name: name, dtype: dtype, shape: shape, byteCount: bytes, fill: fill))
    }

    /// Adds a tensor from its raw little-endian bytes; the count must match shape and dtype.
    public mutating func addTensor(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws {
        let expected = Self.byteCount(dtype: dtype, shape: shape)
        guard bytes.count == expected else {
            throw ModelFormatError.invalidArgument(
                message: "safetensors tensor '\(name)': \(bytes.count) bytes given, shape \(shape) of \(dtype.rawValue) needs \(expected.map(String.init) ?? "an impossible size")")
        }
        try addTensor(name: name, dtype: dtype, shape: shape) { $0.copyBytes(from: bytes) }
    }

    /// Adds an F32 tensor from values.
    public mutating func addTensor(name: String, shape: [Int], floats: [Float]) throws {
        try addTensor(name: name, dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    /// Bytes of a tensor, or nil for a negative or overflowing shape.
    static func byteCount(dtype: SafetensorsDType, shape: [Int]) -> Int? {
        var bytes = dtype.size
        for n in shape {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: n)
            guard n >= 0, !overflow else { return nil }
            bytes = p
        }
        return bytes
    }

    /// The JSON header (compact, tensors in the order added), padded with spaces to a multiple of 8 bytes.
    func header() -> [UInt8] {
        var header = JSONObject()
        if !metadataKeys.isEmpty {
            header["__metadata__"] = .object(JSONObject(metadataKeys.map { ($0, .string(metadataValues[$0] ?? "")) }))
        }
        var offset = 0
        for t in tensors {
            header[t.name] = [
                "dtype": .string(t.dtype.rawValue), "shape": .array(t.shape.map(JSONValue.init)),
                "data_offsets": [JSONValue(offset), JSONValue(offset + t.byteCount)],
            ]
            offset += t.byteCount
        }
        var bytes: [UInt8] = []
        JSONSerializer.append(header, to: &bytes)
        while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    public func write(to path: String) throws {
        let out = try AtomicFileWriter(path: path)
        let header = header()
        var length = ByteSink()
        length.append(UInt64(header.count))
        try out.write(length.bytes)
        try out.write(header)
        for t in tensors {
            try out.write(byteCount: t.byteCount, fill: t.fill)
        }
        try out.commit()
    }
}
