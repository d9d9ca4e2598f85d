// The subset of JSON Schema that constrained decoding honours (docs/structured-output.md): a schema
// is compiled once into a tree of `JSONSchema.Node`s, which `JSONRecognizer` walks byte by byte.
// A keyword outside the subset is an error naming it, never ignored.
import JSON

public struct JSONSchema: Sendable {
    /// Kinds of JSON value a node allows.
    public struct Kinds: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let object = Kinds(rawValue: 1)
        public static let array = Kinds(rawValue: 2)
        public static let string = Kinds(rawValue: 4)
        public static let number = Kinds(rawValue: 8)
        /// An integer written without fraction or exponent (`-12`); `number` includes it.
        public static let integer = Kinds(rawValue: 16)
        public static let boolean = Kinds(rawValue: 32)
        public static let null = Kinds(rawValue: 64)
        public static let all: Kinds = [.object, .array, .string, .number, .integer, .boolean, .null]

        static let names: [(String, Kinds)] = [
            ("object", .object), ("array", .array), ("string", .string), ("number", .number),
            ("integer", .integer), ("boolean", .boolean), ("null", .null),
        ]
    }

    /// One schema: the kinds it allows and their keywords. `anyOf` nodes hold only alternatives;
    /// `literals` (enum, const) replace the kinds: the value is written as one of them, compactly.
    public final class Node: Sendable {
        public let kinds: Kinds
        /// Declared properties in schema order, with their names as JSON string contents (escaped).
        let properties: [(name: String, escaped: [UInt8], schema: Node)]
        let required: Set<String>
        /// The schema of properties not declared; nil when they are not allowed.
        let additional: Node?
        let items: Node?
        let minItems: Int, maxItems: Int
        let minLength: Int, maxLength: Int
        /// enum / const: the allowed values, each as its compact serialization.
        let literals: [[UInt8]]?
        let literalValues: [JSONValue]?
        let anyOf: [Node]?

        init(kinds: Kinds = .all, properties: [(name: String, escaped: [UInt8], schema: Node)] = [],
             required: Set<String> = [], additional: Node? = nil, items: Node? = nil,
             minItems: Int = 0, maxItems: Int = .max, minLength: Int = 0, maxLength: Int = .max,
             literals: [JSONValue]? = nil, anyOf: [Node]? = nil) {
            self.kinds = kinds
            self.properties = properties
            self.required = required
            self.additional = additional
            self.items = items
            self.minItems = minItems
            self.maxItems = maxItems
            self.minLength = minLength
            self.maxLength = maxLength
            literalValues = literals
            self.literals = literals.map { $0.map { Array(JSONSerializer.string($0).utf8) } }
            self.anyOf = anyOf
        }

        /// Any JSON value; its objects allow any member and its arrays any element.
        static let any = Node(kinds: .all)

        /// The schema of a member named `name`: the declared one, else the additional one (nil when
        /// not allowed). An unconstrained node (`any`) allows every member.
        func member(_ name: String) -> Node? {
            if let p = properties.first(where: { $0.name == name }) { return p.schema }
            return additionalSchema
        }

        var additionalSchema: Node? { self === Node.any ? Node.any : additional }
        var itemSchema: Node { items ?? .any }
    }

    public let root: Node

    /// A JSON object with any members: `response_format` `{"type": "json_object"}`.
    public static let anyObject = JSONSchema(root: Node(kinds: .object, additional: .any))

    init(root: Node) { self.root = root }

    /// Compiles `schema`; throws `GemmaError.invalidParameter(name: parameter, ...)` naming the first
    /// keyword outside the subset, a malformed value, or a schema no value can satisfy.
    public init(_ schema: JSONValue, parameter: String = "response_format") throws {
        root = try Compiler(parameter: parameter, root: schema).node(schema, path: "schema")
    }

    /// Whether `value` satisfies the schema; the reason when not.
    public func violation(of value: JSONValue) -> String? { root.violation(of: value, path: "$") }

    /// Keywords read as annotations only.
    static let ignored: Set<String> = ["description", "title", "$schema"]
    static let supported: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const",
        "minItems", "maxItems", "minLength", "maxLength", "anyOf", "$ref", "$defs", "definitions",
    ]
}

private final class Compiler {
    let parameter: String
    let root: JSONValue
    /// The `$ref`s being compiled, outermost first: one met again is a recursion.
    var resolving: [String] = []

    init(parameter: String, root: JSONValue) {
        self.parameter = parameter
        self.root = root
    }

    func fail(_ message: String) -> GemmaError { .invalidParameter(name: parameter, message: message) }

    func node(_ value: JSONValue, path: String) throws -> JSONSchema.Node {
        if value == .bool(true) { return .any }
        guard let o = value.object else {
            throw fail("\(path) must be a JSON Schema object, got \(value.kindName)")
        }
        for key in o.keys where !JSONSchema.supported.contains(key) && !JSONSchema.ignored.contains(key) {
            throw fail("the JSON Schema keyword '\(key)' (at \(path)) is not supported; supported: "
                + JSONSchema.supported.sorted().joined(separator: ", "))
        }
        if let ref = o["$ref"] {
            return try reference(ref, o, path: path)
        }
        if let branches = o["anyOf"] {
            if let other = o.keys.first(where: { JSONSchema.supported.contains($0) && !["anyOf", "$defs", "definitions"].contains($0) }) {
                throw fail("'anyOf' (at \(path)) cannot be combined with '\(other)'; put it in each alternative")
            }
            guard let list = branches.array, !list.isEmpty else { throw fail("\(path).anyOf must be a non-empty array") }
            return JSONSchema.Node(anyOf: try list.enumerated().map { try node($1, path: "\(path).anyOf[\($0)]") })
        }
        let kinds = try self.kinds(o["type"], path: path)
        var properties: [(name: String, escaped: [UInt8], schema: JSONSchema.Node)] = []
        if let p = o["properties"] {
            guard let members = p.object else { throw fail("\(path).properties must be an object") }
            for (name, schema) in members {
                let escaped = Array(JSONSerializer.string(.string(name)).utf8.dropFirst().dropLast())
                properties.append((name, escaped, try node(schema, path: "\(path).properties.\(name)")))
            }
        }
        var required: Set<String> = []
        if let r = o["required"] {
            guard let names = r.array?.compactMap(\.string), names.count == r.array?.count else {
                throw fail("\(path).required must be an array of strings")
            }
            required = Set(names)
        }
        var additional: JSONSchema.Node? = .any
        switch o["additionalProperties"] {
        case nil, .bool(true)?: additional = .any
        case .bool(false)?: additional = nil
        case let schema?: additional = try node(schema, path: "\(path).additionalProperties")
        }
        if let missing = required.first(where: { name in !properties.contains { $0.name == name } }), additional == nil {
            throw fail("\(path).required names '\(missing)', which cannot be written")
        }
        let items = try o["items"].map { try node($0, path: "\(path).items") }
        let minItems = try count(o, "minItems", path: path) ?? 0
        let maxItems = try count(o, "maxItems", path: path) ?? .max
        let minLength = try count(o, "minLength", path: path) ?? 0
        let maxLength = try count(o, "maxLength", path: path) ?? .max
        if minItems > maxItems { throw fail("\(path): minItems \(minItems) exceeds maxItems \(maxItems)") }
        if minLength > maxLength { throw fail("\(path): minLength \(minLength) exceeds maxLength \(maxLength)") }
        if minItems > 0, let items, items.isEmptyLiteralSet { throw fail("\(path).items allows no value") }

        var literals: [JSONValue]?
        if let e = o["enum"] {
            guard let values = e.array, !values.isEmpty else { throw fail("\(path).enum must be a non-empty array") }
            literals = values
        }
        if let c = o["const"] { literals = (literals ?? [c]).filter { $0 == c } }
        let built = JSONSchema.Node(kinds: kinds, properties: properties, required: required, additional: additional,
                                    items: items, minItems: minItems, maxItems: maxItems,
                                    minLength: minLength, maxLength: maxLength)
        if let values = literals {
            // Each literal must satisfy the other keywords; the ones that do not are never written.
            let kept = values.filter { built.violation(of: $0, path: "$") == nil }
            guard !kept.isEmpty else { throw fail("\(path): no value of its enum/const satisfies its other keywords") }
            return JSONSchema.Node(kinds: kinds, literals: kept)
        }
        return built
    }

    /// `$ref` to `#/$defs/<name>` or `#/definitions/<name>` of the root schema (as Pydantic writes
    /// nested models), alone beside annotations; a recursive reference is refused.
    func reference(_ ref: JSONValue, _ o: JSONObject, path: String) throws -> JSONSchema.Node {
        if let other = o.keys.first(where: { JSONSchema.supported.contains($0) && !["$ref", "$defs", "definitions"].contains($0) }) {
            throw fail("'$ref' (at \(path)) cannot be combined with '\(other)'")
        }
        guard let target = ref.string, target.hasPrefix("#/") else {
            throw fail("\(path).$ref must be a string '#/$defs/<name>', got \(ref)")
        }
        let parts = target.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, ["$defs", "definitions"].contains(parts[0]),
              let schema = root[parts[0]]?[parts[1].replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        else { throw fail("\(path).$ref '\(target)' names no schema of the root's $defs or definitions") }
        guard !resolving.contains(target) else {
            throw fail("\(path).$ref '\(target)' is recursive; recursive schemas are not supported")
        }
        resolving.append(target)
        defer { resolving.removeLast() }
        return try node(schema, path: target)
    }

    func kinds(_ type: JSONValue?, path: String) throws -> JSONSchema.Kinds {
        guard let type else { return .all }
        let names: [JSONValue]
        switch type {
        case .string: names = [type]
        case .array(let list) where !list.isEmpty: names = list
        default: throw fail("\(path).type must be a type name or a non-empty array of them")
        }
        var kinds: JSONSchema.Kinds = []
        for name in names {
            guard let s = name.string, let k = JSONSchema.Kinds.names.first(where: { $0.0 == s })?.1 else {
                throw fail("\(path).type: unknown type \(name); the types are "
                    + JSONSchema.Kinds.names.map(\.0).joined(separator: ", "))
            }
            kinds.insert(k)
        }
        return kinds
    }

    func count(_ o: JSONObject, _ key: String, path: String) throws -> Int? {
        guard let v = o[key] else { return nil }
        guard let n = v.int, n >= 0, v.double == Double(n) else {
            throw fail("\(path).\(key) must be a non-negative integer, got \(v)")
        }
        return n
    }
}

extension JSONSchema.Node {
    var isEmptyLiteralSet: Bool { literals?.isEmpty == true }

    /// Why `value` does not satisfy this node, or nil when it does.
    func violation(of value: JSONValue, path: String) -> String? {
        if let anyOf {
            if anyOf.contains(where: { $0.violation(of: value, path: path) == nil }) { return nil }
            return "\(path): matches none of anyOf"
        }
        if let literalValues {
            return literalValues.contains(value) ? nil : "\(path): \(value) is not one of the allowed values"
        }
        switch value {
        case .null: return kinds.contains(.null) ? nil : "\(path): null is not allowed"
        case .bool: return kinds.contains(.boolean) ? nil : "\(path): a boolean is not allowed"
        case .number(let n):
            if kinds.contains(.number) || (kinds.contains(.integer) && n.isInteger) { return nil }
            return "\(path): the number \(n) is not allowed"
        case .string(let s):
            guard kinds.contains(.string) else { return "\(path): a string is not allowed" }
            let length = s.unicodeScalars.count
            return length < minLength || length > maxLength ? "\(path): string length \(length) is out of range" : nil
        case .array(let elements):
            guard kinds.contains(.array) else { return "\(path): an array is not allowed" }
            guard elements.count >= minItems, elements.count <= maxItems else {
                return "\(path): \(elements.count) items is out of range"
            }
            for (i, e) in elements.enumerated() {
                if let v = itemSchema.violation(of: e, path: "\(path)[\(i)]") { return v }
            }
            return nil
        case .object(let o):
            guard kinds.contains(.object) else { return "\(path): an object is not allowed" }
            for name in required where !o.contains(name) { return "\(path): the required '\(name)' is missing" }
            for (key, v) in o {
                guard let schema = member(key) else { return "\(path): '\(key)' is not allowed" }
                if let problem = schema.violation(of: v, path: "\(path).\(key)") { return problem }
            }
            return nil
        }
    }
}
