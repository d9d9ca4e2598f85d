import Gemma
import Records

/// OpenAI's `response_format`, read from a record or a request: `{"type": "text"}` (free text),
/// `{"type": "json_object"}` (any JSON object) or `{"type": "json_schema", "json_schema": {"name",
/// "schema", "strict", "description"}}` (a value the schema allows, in the subset `JSONSchema`
/// compiles). Errors are `GemmaError.invalidParameter(name: "response_format")`.
public struct ResponseFormat: Sendable, Equatable {
    /// The field as given.
    public let json: JSONValue
    /// What the answer must be; nil for free text.
    public let schema: JSONSchema?

    public init(_ value: JSONValue) throws {
        func fail(_ message: String) -> GemmaError { .invalidParameter(name: "response_format", message: message) }
        guard let o = value.object else { throw fail("must be an object, got \(value.kindName)") }
        json = value
        let type = o["type"]?.string
        let allowed: Set<String> = type == "json_schema" ? ["type", "json_schema"] : ["type"]
        if let other = o.keys.first(where: { !allowed.contains($0) }) {
            throw fail("unknown member '\(other)' for type \(o["type"].map { "\($0)" } ?? "(missing)")")
        }
        switch type {
        case "text": schema = nil
        case "json_object": schema = .anyObject
        case "json_schema":
            guard let spec = o["json_schema"]?.object else { throw fail("'json_schema' must be an object") }
            for key in spec.keys where !["name", "schema", "strict", "description"].contains(key) {
                throw fail("unknown member 'json_schema.\(key)'")
            }
            if let name = spec["name"], name.string == nil { throw fail("'json_schema.name' must be a string") }
            if let strict = spec["strict"], !strict.isNull, strict.bool == nil {
                throw fail("'json_schema.strict' must be a boolean")
            }
            // Without a schema any JSON value is allowed (OpenAI requires one; strict or not, the
            // schema is always enforced here).
            schema = try spec["schema"].map { try JSONSchema($0) } ?? JSONSchema(.bool(true))
        default:
            throw fail("'type' must be \"text\", \"json_object\" or \"json_schema\", got \(o["type"].map { "\($0)" } ?? "nothing")")
        }
    }

    public static func == (a: ResponseFormat, b: ResponseFormat) -> Bool { a.json == b.json }
}
