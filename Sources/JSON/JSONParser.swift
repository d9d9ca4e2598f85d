#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict RFC 8259 JSON parser working on UTF-8 bytes.
///
/// Follows RFC 8259 §2–§8: no comments, no trailing commas, no leading zeros, no `NaN`, strings must be
/// valid UTF-8 without raw control characters, `\u` escapes must pair surrogates. Duplicate keys keep
/// the last value in the first key's position (RFC 8259 leaves this open; this is what jq does).
/// Nesting deeper than `maxDepth` is an error rather than a stack overflow.
///
/// Numbers keep their text (`JSONNumber`) beside their value. A number beyond the range of a double
/// (`1e400`) is refused, as before; one below it (`1e-400`) keeps its text and reads as 0.0.
///
/// Speed matters because score-window reads millions of lines: bytes are parsed in place (no copy of
/// the line), strings without escapes are validated and made in one step, and numbers take Clinger's
/// exact fast path (mantissa below 2^53, power of ten up to 22) before falling back to `strtod`.
public struct JSONParser {
    public static let defaultMaxDepth = 512

    /// Parses one JSON text; surrounding whitespace is allowed, anything else after the value is not.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(line: 1, column: 1, reason: "empty input")
        }
        var cursor = Cursor(base: base, end: bytes.count, maxDepth: maxDepth)
        cursor.skipWhitespace()
        let value = try cursor.parseValue(depth: 0)
        cursor.skipWhitespace()
        if cursor.pos < cursor.end {
            throw cursor.error("unexpected \(cursor.describeCurrent()) after the JSON value")
        }
        return value
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse($0, maxDepth: maxDepth) }
    }

    public static func parse(bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0, maxDepth: maxDepth) }
    }
}

private let asciiQuote: UInt8 = 0x22, asciiBackslash: UInt8 = 0x5C

/// Exact powers of ten for the fast path (10^22 is the largest exactly representable one).
private let exactPowersOfTen: [Double] = (0...22).map { e in
    var p = 1.0
    for _ in 0..<e { p *= 10 }
    return p
}

struct Cursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    let maxDepth: Int
    var pos = 0
    /// Set by a string escape that the serializer would write otherwise (see `JSONObject`); an
    /// object member whose key or value sets it keeps its source text.
    var sawRespelledEscape = false

    init(base: UnsafePointer<UInt8>, end: Int, maxDepth: Int) {
        self.base = base
        self.end = end
        self.maxDepth = maxDepth
    }

    /// The error at `position` (default: the current byte), with its line and the byte column in
    /// that line; counting lines only here keeps the newline test out of the parsing loop.
    func error(_ reason: String, at position: Int? = nil) -> JSONParseError {
        let offset = min(position ?? pos, end)
        var line = 1, lineStart = 0
        for i in 0..<offset where base[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONParseError(line: line, column: offset - lineStart + 1, reason: reason)
    }

    func describeCurrent() -> String {
        guard pos < end else { return "end of input" }
        let byte = base[pos]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            switch base[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard pos < end else { throw error("unexpected end of input, expected a value") }
        switch base[pos] {
        case 0x7B: return .object(try parseObject(depth: depth + 1))
        case 0x5B: return try parseArray(depth: depth + 1)
        case asciiQuote: return .string(try parseString())
        case 0x74: try expectLiteral("true"); return .bool(true)
        case 0x66: try expectLiteral("false"); return .bool(false)
        case 0x6E: try expectLiteral("null"); return .null
        case 0x2D, 0x30...0x39: return try parseNumber()
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        let start = pos
        guard end - pos >= count else { throw error("invalid literal, expected '\(word)'") }
        let literal = word.utf8Start
        for i in 0..<count where base[pos + i] != literal[i] {
            throw error("invalid literal, expected '\(word)'", at: start)
        }
        pos += count
    }

    mutating func parseObject(depth: Int) throws -> JSONObject {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if pos < end && base[pos] == 0x7D { pos += 1; return object }
        object.reserveCapacity(16)
        while true {
            skipWhitespace()
            guard pos < end, base[pos] == asciiQuote else {
                throw error("expected a string key, found \(describeCurrent())")
            }
            let memberStart = pos
            let outerRespelled = sawRespelledEscape
            sawRespelledEscape = false
            let key = try parseString()
            let keyEnd = pos
            skipWhitespace()
            guard pos < end, base[pos] == 0x3A else {
                throw error("expected ':' after object key, found \(describeCurrent())")
            }
            pos += 1
            skipWhitespace()
            let valueStart = pos
            let value = try parseValue(depth: depth)
            let index: Int
            if let existing = object.position(of: key) {
                object[key] = value
                index = existing
            } else {
                object.appendUnchecked(key, value)
                index = object.count - 1
            }
            if sawRespelledEscape {
                var text = String(decoding: UnsafeBufferPointer(start: base + memberStart, count: keyEnd - memberStart), as: UTF8.self)
                text += ":"
                text += String(decoding: UnsafeBufferPointer(start: base + valueStart, count: pos - valueStart), as: UTF8.self)
                object.setVerbatim(text, at: index)
            }
            sawRespelledEscape = sawRespelledEscape || outerRespelled
            skipWhitespace()
            guard pos < end else { throw error("unexpected end of input inside an object") }
            switch base[pos] {
            case 0x2C: pos += 1
            case 0x7D: pos += 1; return object
            default: throw error("expected ',' or '}' in object, found \(describeCurrent())")
            }
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if pos < end && base[pos] == 0x5D { pos += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < end else { throw error("unexpected end of input inside an array") }
            switch base[pos] {
            case 0x2C: pos += 1
            case 0x5D: pos += 1; return .array(elements)
            default: throw error("expected ',' or ']' in array, found \(describeCurrent())")
            }
        }
    }

    // MARK: Strings

    mutating func parseString() throws -> String {
        let open = pos
        pos += 1  // opening quote
        let start = pos
        // Fast scan: most strings have no escapes.
        while pos < end {
            let byte = base[pos]
            if byte == asciiQuote {
                let text = try makeString(UnsafeBufferPointer(start: base + start, count: pos - start), at: start)
                pos += 1
                return text
            }
            if byte == asciiBackslash { break }
            if byte < 0x20 { throw error("raw control character 0x\(String(byte, radix: 16)) in a string (must be escaped)") }
            pos += 1
        }
        guard pos < end else { throw error("unterminated string", at: open) }
        // Slow path: copy what was scanned and decode escapes.
        var buffer = [UInt8](UnsafeBufferPointer(start: base + start, count: pos - start))
        while pos < end {
            let byte = base[pos]
            if byte == asciiQuote {
                pos += 1
                return try buffer.withUnsafeBufferPointer { try makeString($0, at: start) }
            }
            if byte < 0x20 { throw error("raw control character 0x\(String(byte, radix: 16)) in a string (must be escaped)") }
            if byte != asciiBackslash {
                buffer.append(byte)
                pos += 1
                continue
            }
            pos += 1
            guard pos < end else { break }
            let escape = base[pos]
            pos += 1
            switch escape {
            case asciiQuote: buffer.append(asciiQuote)
            case asciiBackslash: buffer.append(asciiBackslash)
            case 0x2F: buffer.append(0x2F); sawRespelledEscape = true
            case 0x62: buffer.append(0x08)
            case 0x66: buffer.append(0x0C)
            case 0x6E: buffer.append(0x0A)
            case 0x72: buffer.append(0x0D)
            case 0x74: buffer.append(0x09)
            case 0x75:
                let scalar = try parseUnicodeEscape()
                if !isSerializerSpelling(escapeAt: pos - 6, of: scalar) { sawRespelledEscape = true }
                appendUTF8(scalar, to: &buffer)
            default: throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: pos - 2)
            }
        }
        throw error("unterminated string", at: open)
    }

    /// Whether the six bytes at `start` (`\uXXXX`, one scalar) are how `JSONSerializer` writes
    /// `scalar`: only control characters without a short escape, in lower-case hex.
    private func isSerializerSpelling(escapeAt start: Int, of scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        guard v < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v), start >= 0 else { return false }
        return (2..<6).allSatisfy { !(0x41...0x46).contains(base[start + $0]) }
    }

    /// Makes a String from bytes that must be valid UTF-8. Validating here (instead of with the
    /// generic `String(validating:as:)`, which showed up at 10% of a score-window profile through
    /// metadata lookups) lets `String(decoding:)` take its fast path with nothing to repair.
    private func makeString(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) throws -> String {
        guard isValidUTF8(bytes) else {
            throw error("string is not valid UTF-8", at: start)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the four hex digits after `\u` (pos is just past the `u`), pairing surrogates.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let escapeStart = pos - 2
        let first = try parseHex4()
        if (0xDC00...0xDFFF).contains(first) {
            throw error("lone low surrogate \\u\(String(first, radix: 16))", at: escapeStart)
        }
        if (0xD800...0xDBFF).contains(first) {
            guard end - pos >= 2, base[pos] == asciiBackslash, base[pos + 1] == 0x75 else {
                throw error("high surrogate \\u\(String(first, radix: 16)) not followed by a low surrogate", at: escapeStart)
            }
            pos += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw error("high surrogate \\u\(String(first, radix: 16)) followed by \\u\(String(second, radix: 16)), not a low surrogate", at: escapeStart)
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            // Always valid: combined lies in 0x10000...0x10FFFF.
            return Unicode.Scalar(combined) ?? "\u{FFFD}"
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard end - pos >= 4 else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = base[pos]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("invalid hex digit \(describeCurrent()) in \\u escape")
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        let v = scalar.value
        switch v {
        case 0..<0x80:
            buffer.append(UInt8(v))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | (v >> 6)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | (v >> 12)))
            buffer.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | (v >> 18)))
            buffer.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    // MARK: Numbers

    mutating func parseNumber() throws -> JSONValue {
        let start = pos
        var negative = false
        if base[pos] == 0x2D {
            negative = true
            pos += 1
        }
        guard pos < end, isDigit(base[pos]) else { throw error("expected a digit after '-'") }
        // Integer part, accumulating a mantissa of up to 19 digits.
        var mantissa: UInt64 = 0
        var digits = 0
        var droppedDigits = 0  // digits beyond 19 in the integer part (they scale by ten)
        if base[pos] == 0x30 {
            pos += 1
            if pos < end && isDigit(base[pos]) { throw error("leading zero in a number", at: start) }
        } else {
            while pos < end && isDigit(base[pos]) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(base[pos] - 0x30)
                    digits += 1
                } else {
                    droppedDigits += 1
                }
                pos += 1
            }
        }
        var isInteger = true
        var fractionDigits = 0
        var truncated = droppedDigits > 0
        if pos < end && base[pos] == 0x2E {
            isInteger = false
            pos += 1
            guard pos < end, isDigit(base[pos]) else { throw error("expected a digit after '.'") }
            while pos < end && isDigit(base[pos]) {
                if digits < 19 {
                    // Leading zeros of the fraction (0.000123) are not significant digits.
                    mantissa = mantissa &* 10 &+ UInt64(base[pos] - 0x30)
                    if mantissa != 0 { digits += 1 }
                    fractionDigits += 1
                } else if base[pos] != 0x30 {
                    truncated = true
                }
                pos += 1
            }
        }
        var exponent = 0
        if pos < end && (base[pos] == 0x65 || base[pos] == 0x45) {
            isInteger = false
            pos += 1
            var expNegative = false
            if pos < end && (base[pos] == 0x2B || base[pos] == 0x2D) {
                expNegative = base[pos] == 0x2D
                pos += 1
            }
            guard pos < end, isDigit(base[pos]) else { throw error("expected a digit in the exponent") }
            while pos < end && isDigit(base[pos]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(base[pos] - 0x30) }
                pos += 1
            }
            if expNegative { exponent = -exponent }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        if isInteger && !truncated {
            if negative {
                if mantissa <= UInt64(Int64.max) + 1 {
                    return .number(JSONNumber(text: text, integer: mantissa == UInt64(Int64.max) + 1 ? Int64.min : -Int64(mantissa)))
                }
            } else if mantissa <= UInt64(Int64.max) {
                return .number(JSONNumber(text: text, integer: Int64(mantissa)))
            }
        }
        // Clinger's fast path: both the mantissa and the power of ten are exact doubles.
        let power = exponent - fractionDigits + droppedDigits
        if !truncated && mantissa <= (1 << 53) && power >= -22 && power <= 22 {
            var value = Double(mantissa)
            value = power < 0 ? value / exactPowersOfTen[-power] : value * exactPowersOfTen[power]
            return .number(JSONNumber(text: text, nearest: negative ? -value : value))
        }
        // Beyond the range of a double (1e400) the nearest value is ±infinity; the text still
        // passes through as written, like 1e-400's (RFC 8259 §6 sets no range).
        guard let value = Double(text) else { throw error("invalid number", at: start) }
        return .number(JSONNumber(text: text, nearest: value))
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
