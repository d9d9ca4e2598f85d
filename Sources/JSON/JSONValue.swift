/// A JSON value as the filters see it. Numbers keep the text they were written as (`JSONNumber`), and
/// objects are `JSONObject`s, which keep their keys in input order, so that a record passes through a
/// tool byte for byte: tools enrich records, and a record whose fields moved or whose numbers were
/// respelled would be hard to diff against its input.
///
/// Strings and keys compare byte for byte, not by Swift's canonical equivalence: "é" (U+00E9) and
/// "e\u{301}" are different JSON strings, and a tokenizer.json vocabulary holds both as separate pieces.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An integer number.
    public static func int(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }

    /// A number in the shortest form that reads back as the same double (`0.1`, `1e-07`, `1.0`).
    /// NaN and ±infinity have no JSON spelling and become `null`: tools report missing statistics as
    /// null on purpose, so a stray NaN shows up as "no value" rather than as a line every downstream
    /// JSON parser rejects.
    public static func double(_ value: Double) -> JSONValue { JSONNumber(value).map(JSONValue.number) ?? .null }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return utf8Equal(x, y)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }

    /// Byte-equal strings are canonically equal, so String's own hash agrees with this equality.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case let .bool(b): hasher.combine(1); hasher.combine(b)
        case let .number(n): hasher.combine(2); hasher.combine(n)
        case let .string(s): hasher.combine(3); hasher.combine(s)
        case let .array(a): hasher.combine(4); hasher.combine(a)
        case let .object(o): hasher.combine(5); hasher.combine(o)
        }
    }
}

// MARK: - Accessors

extension JSONValue {
    /// The string, if this is a string.
    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The number as a `Double`, for integers and doubles alike (metrics are read this way).
    public var double: Double? {
        if case let .number(n) = self { return n.double }
        return nil
    }

    /// The integer, if this is a number with an exact integer value (`3`, `3.0`).
    public var int: Int? {
        if case let .number(n) = self { return n.int }
        return nil
    }

    /// The number, if this is a number.
    public var number: JSONNumber? {
        if case let .number(n) = self { return n }
        return nil
    }

    /// The boolean, if this is a boolean.
    public var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var object: JSONObject? {
        if case let .object(o) = self { return o }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A member of an object (nil for a missing key or a non-object), so that paths chain:
    /// `record["restrict_to_banking"]?["score"]?.double`.
    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    /// An element of an array (nil when out of range or not an array).
    public subscript(index: Int) -> JSONValue? {
        if case let .array(a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    /// Follows a dotted path such as `metrics.restrict_to_banking.pass_rate` through nested objects.
    public func value(atPath path: String) -> JSONValue? {
        var current: JSONValue? = self
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            current = current?[String(component)]
            if current == nil { return nil }
        }
        return current
    }

    /// A short name of the value's kind, for error messages ("expected a number, found string").
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

// MARK: - Convenience initialisers

extension JSONValue {
    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Double) { self = .double(value) }
    public init(_ value: String) { self = .string(value) }
    public init(_ value: Bool) { self = .bool(value) }
    public init(_ value: JSONObject) { self = .object(value) }
    /// `nil` becomes `null`: optional statistics (no data) are written as `null`, never as NaN.
    public init(_ value: Double?) { self = value.map(JSONValue.double) ?? .null }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value.
    public var description: String { JSONSerializer.string(self) }
}
