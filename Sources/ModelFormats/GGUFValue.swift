/// The value types of GGUF metadata, with their on-disk type ids as ggml's `gguf_type` numbers them
/// (docs/gguf.md, "Metadata value types").
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// Bytes one value of this type takes at least; used to refuse counts the file cannot hold
    /// before allocating anything (a string is its u64 length, an array its type and count).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }

    public var description: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }
}

/// One GGUF metadata value. Arrays hold values of a single type (GGUF stores the element type once),
/// and may nest.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// Any integer type as `Int`; nil for other types and for a u64 above `Int.max`.
    /// Converters disagree on integer widths (u32 here, i32 there), so readers ask for "an integer".
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// Any float type as `Double`; integers too, since a hyperparameter like a rope base may be
    /// written either way.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    public var array: [GGUFValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// An array of strings (a vocabulary), or nil if this is not one.
    public var strings: [String]? { elements(\.string) }

    /// An array of numbers as `Float` (token scores), or nil if this is not one.
    public var floats: [Float]? {
        elements { v in
            if case let .float32(f) = v { return f }
            return v.double.map(Float.init)
        }
    }

    /// An array of integers (token types), or nil if this is not one.
    public var ints: [Int]? { elements(\.int) }

    /// Every element converted, or nil if this is not an array or an element does not convert.
    private func elements<T>(_ convert: (GGUFValue) -> T?) -> [T]? {
        guard case let .array(a) = self else { return nil }
        var out = [T]()
        out.reserveCapacity(a.count)
        for v in a {
            guard let t = convert(v) else { return nil }
            out.append(t)
        }
        return out
    }

    /// A short description of the type for error messages, e.g. "string" or "array of u32".
    public var typeDescription: String {
        guard case let .array(a) = self else { return type.description }
        guard let first = a.first else { return "empty array" }
        return "array of \(first.typeDescription)"
    }
}
