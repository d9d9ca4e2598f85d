/// The one wording of a `DecodingError` for users, naming the key as the file spells it
/// (`text_config.hidden_size`, `eos_token_id[1]`) and, given the document, what the file holds there:
///
///     missing key 'text_config.intermediate_size'
///     key 'num_attention_heads' is not valid: 'num_attention_heads' must be an integer, found "4"
///     key 'lora_alpha' is null: 'lora_alpha' must be a number
extension DecodingError {
    public func message(in document: JSONValue? = nil) -> String {
        switch self {
        case let .keyNotFound(key, context):
            return "missing key '\(Self.path(context.codingPath + [key]))'"
        case let .typeMismatch(type, context):
            let found = Self.value(at: context.codingPath, in: document).map { ", found \(Self.excerpt($0))" } ?? ""
            guard !context.codingPath.isEmpty else { return "the document must be \(Self.kind(type))\(found)" }
            let path = Self.path(context.codingPath)
            return "key '\(path)' is not valid: '\(Self.leaf(context.codingPath))' must be \(Self.kind(type))\(found)"
        case let .valueNotFound(type, context):
            return "key '\(Self.path(context.codingPath))' is null: '\(Self.leaf(context.codingPath))' must be \(Self.kind(type))"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                // JSONParser read the document, so Foundation's decoder balked at a number it could not
                // convert, and on Linux it names no key for that.
                if document != nil {
                    return "a number does not fit the type of its key (a fraction or a value beyond 64 bits where an integer belongs)"
                }
                let underlying = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                return "not valid JSON: \(underlying)"
            }
            return "key '\(Self.path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }

    /// `a.b[2].c`: keys joined by dots, array positions in brackets.
    static func path(_ codingPath: [CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }

    /// The last key with the positions after it (`eos_token_id[1]`).
    static func leaf(_ codingPath: [CodingKey]) -> String {
        let start = codingPath.lastIndex { $0.intValue == nil } ?? codingPath.startIndex
        return path(Array(codingPath[start...]))
    }

    /// What a value of `type` is called in JSON terms.
    static func kind(_ type: Any.Type) -> String {
        if type is any BinaryInteger.Type { return "an integer" }
        if type is any BinaryFloatingPoint.Type { return "a number" }
        if type == String.self { return "a string" }
        if type == Bool.self { return "a boolean" }
        let name = String(describing: type)
        if name.hasPrefix("Array<") || name.hasPrefix("[") { return "an array" }
        if name.hasPrefix("Dictionary<") { return "an object" }
        return "a \(name)"
    }

    static func value(at codingPath: [CodingKey], in document: JSONValue?) -> JSONValue? {
        var current = document
        for key in codingPath {
            current = key.intValue.map { current?[$0] } ?? current?[key.stringValue]
        }
        return current
    }

    /// The value's JSON text, cut to 40 characters.
    static func excerpt(_ value: JSONValue) -> String {
        let text = JSONSerializer.string(value)
        return text.count <= 40 ? text : text.prefix(37) + "..."
    }
}
