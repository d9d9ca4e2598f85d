/// A JSON number: the text it was written as, and the value that text denotes.
///
/// The text is what the serializer writes, so a number passes through a filter byte for byte: `-0`,
/// `1.50`, `1e-400`, `1e400` and `18446744073709551616` come out as they went in, where a parsed `Int64` or
/// `Double` would have written `0`, `1.5`, `0.0` and `1.8446744073709552e+19`. The value is worked
/// out once, while parsing (Clinger's fast path in `JSONParser`), because metrics are read millions
/// of times and a number's text is written far more rarely than its value is read.
///
/// Two numbers are equal when they denote the same value, whatever their spelling: `1`, `1.0`, `1e0`
/// and `-0` versus `0`, as JSON (RFC 8259 §6) and jq see them. Integers compare exactly, beyond 2^53 too;
/// a number without an exact `Int64` value compares as the nearest double. Byte-exactness is the
/// serializer's business, not equality's.
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number as JSON text: the input's own spelling for a parsed number, Swift's shortest
    /// round-trip form for one made from a `Double` (`0.1`, `1e-07`, `1.0`).
    public let text: String
    private let value: Value

    private enum Value: Sendable {
        /// An integer literal (no fraction, no exponent) within Int64.
        case integer(Int64)
        /// Everything else: the nearest double (`1e-400` is 0.0, `1e400` is +infinity).
        case floating(Double)
    }

    /// A parsed integer literal; `text` is its spelling (`-0` for zero, at times).
    init(text: String, integer: Int64) {
        self.text = text
        value = .integer(integer)
    }

    /// A parsed number that is not an integer literal within Int64; `double` is its nearest double,
    /// ±infinity beyond the range of doubles.
    init(text: String, nearest double: Double) {
        self.text = text
        value = .floating(double)
    }

    public init(_ integer: Int64) {
        text = String(integer)
        value = .integer(integer)
    }

    /// nil for NaN and ±infinity, which JSON cannot spell.
    public init?(_ double: Double) {
        guard double.isFinite else { return nil }
        text = double.description
        value = .floating(double)
    }

    /// The number `text` spells, or nil unless `text` is exactly one JSON number (RFC 8259 §6).
    public init?(text: String) {
        guard case let .number(number)? = try? JSONParser.parse(text),
              number.text.utf8.count == text.utf8.count else { return nil }
        self = number
    }

    /// Whether the text is an integer literal within Int64 (`42`, `-0`); `1.0`, `1e2` and
    /// `18446744073709551616` are not.
    public var isInteger: Bool {
        if case .integer = value { return true }
        return false
    }

    /// The value as a Double, rounded to the nearest one (integers beyond 2^53 too).
    public var double: Double {
        switch value {
        case let .integer(i): return Double(i)
        case let .floating(d): return d
        }
    }

    /// The value as an Int64 when it is an integer that fits, spelled so or not (`3`, `3.0`, `3e0`).
    public var int64: Int64? {
        switch value {
        case let .integer(i): return i
        case let .floating(d): return Int64(exactly: d)
        }
    }

    /// The value as an Int when it is an integer that fits (`3.0` is 3, `3.5` is nil).
    public var int: Int? { int64.flatMap { Int(exactly: $0) } }

    public var description: String { text }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a.value, b.value) {
        case let (.integer(x), .integer(y)): return x == y
        case let (.floating(x), .floating(y)): return x == y
        case let (.integer(i), .floating(d)), let (.floating(d), .integer(i)): return Int64(exactly: d) == i
        }
    }

    /// Hashes the nearest double, which equal numbers share (-0.0 and 0.0 hash alike).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(double)
    }
}
