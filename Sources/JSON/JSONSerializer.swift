/// Writes compact JSON (no spaces), one value at a time, into a byte buffer; or, for files people
/// read (config.json), indented as Python's `json.dumps(indent=2)` writes them.
///
/// - Strings: `"` and `\` are escaped, control characters below U+0020 become `\n`, `\t`, ... or
///   `\u00XX`; everything else, including non-ASCII text, is written as UTF-8 unchanged.
/// - Numbers are written as their `JSONNumber.text`: a parsed number as it was read (`-0`, `1.50`),
///   one made from a double in the shortest form that reads back to the same double (`0.1`, `1e-07`,
///   `1.0`: a double with an integral value keeps its `.0`, so it goes out as a double).
/// - An object member read with an escape this serializer spells otherwise (`\u00e9`, `\/`) is
///   written as it was read, until it is set (`JSONObject`).
/// - Non-finite doubles have no JSON spelling: `JSONValue.double` makes them `null`.
public enum JSONSerializer {
    public static func string(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null:
            appendASCII("null", to: &out)
        case let .bool(b):
            appendASCII(b ? "true" : "false", to: &out)
        case let .number(n):
            appendASCII(n.text, to: &out)
        case let .string(s):
            appendString(s, to: &out)
        case let .array(elements):
            out.append(0x5B)
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(0x2C) }
                append(element, to: &out)
            }
            out.append(0x5D)
        case let .object(object):
            append(object, to: &out)
        }
    }

    public static func append(_ object: JSONObject, to out: inout [UInt8]) {
        out.append(0x7B)
        let keys = object.keys, values = object.values, verbatim = object.verbatim
        for i in keys.indices {
            if i > 0 { out.append(0x2C) }
            if let text = verbatim?[i] {
                out.append(contentsOf: text.utf8)
                continue
            }
            appendString(keys[i], to: &out)
            out.append(0x3A)
            append(values[i], to: &out)
        }
        out.append(0x7D)
    }

    /// The value indented by `indent` spaces a level, `"key": value` and one member or element a
    /// line, empty objects and arrays as `{}` and `[]`, and a final newline (transformers' layout of
    /// config.json).
    public static func prettyString(_ value: JSONValue, indent: Int = 2) -> String {
        var bytes: [UInt8] = []
        appendPretty(value, indent: indent, level: 0, to: &bytes)
        bytes.append(0x0A)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendPretty(_ value: JSONValue, indent: Int, level: Int, to out: inout [UInt8]) {
        func newline(_ level: Int) {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x20, count: indent * level))
        }
        switch value {
        case let .array(elements) where !elements.isEmpty:
            out.append(0x5B)
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(level + 1)
                appendPretty(element, indent: indent, level: level + 1, to: &out)
            }
            newline(level)
            out.append(0x5D)
        case let .object(object) where !object.isEmpty:
            out.append(0x7B)
            for (i, (key, member)) in zip(object.keys, object.values).enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(level + 1)
                appendString(key, to: &out)
                out.append(contentsOf: [0x3A, 0x20])
                appendPretty(member, indent: indent, level: level + 1, to: &out)
            }
            newline(level)
            out.append(0x7D)
        default:
            append(value, to: &out)
        }
    }

    private static func appendASCII(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in s.utf8 {
            switch byte {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0x08: out.append(0x5C); out.append(0x62)
            case 0x0C: out.append(0x5C); out.append(0x66)
            case 0..<0x20:
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
