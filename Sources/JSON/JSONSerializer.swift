/// Writes compact JSON (no spaces), one value at a time, into a byte buffer.
///
/// - Strings: `"` and `\` are escaped, control characters below U+0020 become `\n`, `\t`, ... or
///   `\u00XX`; everything else, including non-ASCII text, is written as UTF-8 unchanged.
/// - Numbers are written as their `JSONNumber.text`: a parsed number as it was read (`-0`, `1.50`),
///   one made from a double in the shortest form that reads back to the same double (`0.1`, `1e-07`,
///   `1.0`: a double with an integral value keeps its `.0`, so it goes out as a double).
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
        let keys = object.keys, values = object.values
        for i in keys.indices {
            if i > 0 { out.append(0x2C) }
            appendString(keys[i], to: &out)
            out.append(0x3A)
            append(values[i], to: &out)
        }
        out.append(0x7D)
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
