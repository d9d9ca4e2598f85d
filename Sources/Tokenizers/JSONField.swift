import JSON

/// A JSON value together with its path in the document (`model.merges[3]`), so that every type
/// check can say exactly which field of a tokenizer.json is wrong.
struct JSONField {
    let value: JSONValue
    let path: String

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member `key`, or nil if absent or null.
    func optional(_ key: String) throws -> JSONField? {
        guard case .object = value else { throw TokenizerError.wrongType(field: path, expected: "an object") }
        guard let member = value[key], !member.isNull else { return nil }
        return JSONField(value: member, path: child(key))
    }

    func required(_ key: String) throws -> JSONField {
        guard let field = try optional(key) else { throw TokenizerError.missingField(field: child(key)) }
        return field
    }

    private func wrong(_ expected: String) -> TokenizerError {
        .wrongType(field: path, expected: "\(expected), found \(value.typeName)")
    }

    func string() throws -> String {
        guard case let .string(s) = value else { throw wrong("a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case let .bool(b) = value else { throw wrong("a boolean") }
        return b
    }

    func int() throws -> Int {
        guard let i = value.int else { throw wrong("an integer") }
        return i
    }

    func double() throws -> Double {
        guard let n = value.double else { throw wrong("a number") }
        return n
    }

    func array() throws -> [JSONField] {
        guard case let .array(elements) = value else { throw wrong("an array") }
        return elements.enumerated().map { JSONField(value: $1, path: "\(path)[\($0)]") }
    }

    func members() throws -> [(key: String, field: JSONField)] {
        guard case let .object(members) = value else { throw wrong("an object") }
        return members.map { (key: $0.key, field: JSONField(value: $0.value, path: child($0.key))) }
    }

    /// The component's `type` member (normalizers, decoders, models).
    func componentType() throws -> String { try required("type").string() }

    /// A `pattern` of the form `{"String": "…"}`; regex patterns are not supported.
    func stringPattern() throws -> String {
        let pattern = try required("pattern")
        if let string = try pattern.optional("String") { return try string.string() }
        if try pattern.optional("Regex") != nil {
            throw TokenizerError.unsupportedComponent(field: pattern.path, type: "Regex")
        }
        throw TokenizerError.missingField(field: pattern.child("String"))
    }
}

extension JSONValue {
    /// The value's kind as the messages say it: "an array", "a number", "null".
    var typeName: String {
        switch self {
        case .null: return "null"
        case .array, .object: return "an \(kindName)"
        default: return "a \(kindName)"
        }
    }
}
