import TensorKit

/// Builds a GGUF version 3 file that llama.cpp loads (docs/gguf.md, "Writing"; the layout ggml's
/// `gguf_write_to_file` produces): header, metadata in insertion order, tensor infos, zero padding to
/// the alignment, then each tensor's bytes followed by zero padding to the alignment. Tensors are
/// packed in the order they were added, so each stored offset equals the running padded size, which
/// llama.cpp checks.
///
/// Tensor bytes can be given up front or produced at write time by a closure, so that a merged
/// multi-gigabyte model is written one tensor at a time instead of being held in memory.
public struct GGUFWriter {
    /// ggml's `GGML_MAX_NAME` is 64 including the terminating NUL.
    public static let maxTensorNameBytes = 63

    public private(set) var alignment = GGUFFile.defaultAlignment
    private var keys = [String]()
    private var values = [String: GGUFValue]()
    private var arrayElementTypes = [String: GGUFValueType]()
    private var tensors = [PendingTensor]()
    private var tensorNames = Set<String>()

    private struct PendingTensor {
        let name: String
        let shape: [Int]
        let type: GGMLType
        let byteCount: Int
        let fill: (UnsafeMutableRawBufferPointer) throws -> Void
    }

    /// An empty file description; the alignment is 32 unless `general.alignment` is set.
    public init() {}

    public var metadataKeys: [String] { keys }

    /// Sets a metadata value; a key set twice keeps its first position and takes the new value.
    /// `arrayElementType` is needed only for an empty array, whose element type cannot be inferred
    /// (GGUF stores it even when there are no elements). `general.alignment` must be a u32 power of
    /// two and changes the padding of the file.
    public mutating func setMetadata(_ key: String, _ value: GGUFValue, arrayElementType: GGUFValueType? = nil) throws {
        try Self.checkHomogeneous(value, key: key)
        if case let .array(elements) = value, elements.isEmpty {
            guard let type = arrayElementType else {
                throw ModelFormatError.invalidArgument(message: "GGUF metadata '\(key)': an empty array needs an explicit element type")
            }
            arrayElementTypes[key] = type
        }
        if key == "general.alignment" {
            guard case let .uint32(a) = value, a > 0, a & (a - 1) == 0 else {
                throw ModelFormatError.invalidArgument(message: "GGUF metadata 'general.alignment' must be a u32 power of two, got \(value)")
            }
            guard tensors.isEmpty else {
                throw ModelFormatError.invalidArgument(message: "GGUF metadata 'general.alignment' must be set before tensors are added")
            }
            alignment = Int(a)
        }
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Copies every metadata value of `file` in file order (for rewriting a model with new weights).
    /// Keys in `excluding` are skipped.
    public mutating func copyMetadata(from file: GGUFFile, excluding: Set<String> = []) throws {
        for key in file.metadataKeys where !excluding.contains(key) {
            guard let value = file.metadata[key] else { continue }
            try setMetadata(key, value, arrayElementType: file.emptyArrayElementTypes[key])
        }
    }

    /// Adds a tensor whose bytes are produced when the file is written: `fill` receives a zeroed
    /// buffer of exactly the tensor's byte count. `shape` is in ggml order (ne0 first).
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType,
                                   fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        guard !name.isEmpty, name.utf8.count <= Self.maxTensorNameBytes else {
            throw ModelFormatError.invalidArgument(
                message: "GGUF tensor name '\(name)' must be 1 to \(Self.maxTensorNameBytes) bytes long")
        }
        guard !tensorNames.contains(name) else {
            throw ModelFormatError.invalidArgument(message: "GGUF tensor '\(name)' added twice")
        }
        guard shape.count <= GGUFFile.maxDimensions, shape.allSatisfy({ $0 >= 0 }) else {
            throw ModelFormatError.invalidArgument(
                message: "GGUF tensor '\(name)' shape \(shape) must have at most \(GGUFFile.maxDimensions) non-negative dimensions")
        }
        guard let byteCount = Self.byteCount(type: type, shape: shape) else {
            throw ModelFormatError.invalidArgument(
                message: "GGUF tensor '\(name)': shape \(shape) is too large or its row length is not a multiple of the \(type) block size \(type.blockSize)")
        }
        tensorNames.insert(name)
        tensors.append(PendingTensor(name: name, shape: shape, type: type, byteCount: byteCount, fill: fill))
    }

    /// Adds a tensor from its raw bytes (already in `type`'s layout); the count must match the shape.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) throws {
        let expected = Self.byteCount(type: type, shape: shape)
        guard bytes.count == expected else {
            throw ModelFormatError.invalidArgument(
                message: "GGUF tensor '\(name)': \(bytes.count) bytes given, shape \(shape) of \(type) needs \(expected.map(String.init) ?? "a whole number of blocks")")
        }
        try addTensor(name: name, shape: shape, type: type) { buffer in
            buffer.copyBytes(from: bytes)
        }
    }

    /// Adds an f32 tensor from values.
    public mutating func addTensor(name: String, shape: [Int], floats: [Float]) throws {
        try addTensor(name: name, shape: shape, type: .f32, bytes: floats.withUnsafeBytes { Array($0) })
    }

    /// Writes the file atomically to `path`.
    public func write(to path: String) throws {
        let out = try AtomicFileWriter(path: path)
        var header = ByteSink()
        header.append(GGUFFile.magic)
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(keys.count))
        for key in keys {
            guard let value = values[key] else { continue }
            header.appendString(key)
            header.append(value.type.rawValue)
            Self.appendValue(value, to: &header, emptyElementType: arrayElementTypes[key])
        }
        var offset = 0
        for t in tensors {
            header.appendString(t.name)
            header.append(UInt32(t.shape.count))
            for n in t.shape { header.append(UInt64(n)) }
            header.append(t.type.rawValue)
            header.append(UInt64(offset))
            offset += padded(t.byteCount)
        }
        try out.write(header.bytes)
        try out.writeZeros(padded(header.bytes.count) - header.bytes.count)
        for t in tensors {
            try out.write(byteCount: t.byteCount, fill: t.fill)
            try out.writeZeros(padded(t.byteCount) - t.byteCount)
        }
        try out.commit()
    }

    /// Bytes of a tensor, or nil when the shape overflows or rows are not whole blocks.
    static func byteCount(type: GGMLType, shape: [Int]) -> Int? {
        var elements = 1
        for n in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: n)
            guard n >= 0, !overflow else { return nil }
            elements = p
        }
        guard (shape.first ?? 1) % type.blockSize == 0 else { return nil }
        return type.byteCount(elements: elements)
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    private static func checkHomogeneous(_ value: GGUFValue, key: String) throws {
        guard case let .array(elements) = value, let first = elements.first else { return }
        for e in elements {
            guard e.type == first.type else {
                throw ModelFormatError.invalidArgument(
                    message: "GGUF metadata '\(key)': array mixes \(first.type) and \(e.type); GGUF arrays hold one type")
            }
            try checkHomogeneous(e, key: key)
        }
    }

    private static func appendValue(_ value: GGUFValue, to sink: inout ByteSink, emptyElementType: GGUFValueType? = nil) {
        switch value {
        case let .uint8(v): sink.append(v)
        case let .int8(v): sink.append(v)
        case let .uint16(v): sink.append(v)
        case let .int16(v): sink.append(v)
        case let .uint32(v): sink.append(v)
        case let .int32(v): sink.append(v)
        case let .uint64(v): sink.append(v)
        case let .int64(v): sink.append(v)
        case let .float32(v): sink.append(v.bitPattern)
        case let .float64(v): sink.append(v.bitPattern)
        case let .bool(v): sink.append(UInt8(v ? 1 : 0))
        case let .string(s): sink.appendString(s)
        case let .array(elements):
            // Nested empty arrays have no recorded type; u8 is as good as any for zero elements.
            sink.append((elements.first?.type ?? emptyElementType ?? .uint8).rawValue)
            sink.append(UInt64(elements.count))
            for e in elements { appendValue(e, to: &sink) }
        }
    }
}
