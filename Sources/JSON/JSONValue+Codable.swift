import Foundation

/// Bridges between `JSONValue` and `Codable` types, for configuration structs (rules, settings,
/// config.json) that are easier to declare as `Codable` than to pick apart by hand. The text is always
/// parsed by `JSONParser` (so syntax errors and duplicate keys are handled once, the same way) and
/// only then handed to Foundation's JSONDecoder as the serializer writes it; encoding runs
/// JSONEncoder and parses its output. Records themselves never take this path, because Foundation's
/// JSON loses key order, merges canonically equivalent keys and is several times slower.
extension JSONValue {
    /// The JSON form of an `Encodable` value.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        self = try data.withUnsafeBytes { raw in
            try JSONParser.parse(raw.bindMemory(to: UInt8.self))
        }
    }

    /// Decodes a `Decodable` value from this JSON value.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        var bytes: [UInt8] = []
        JSONSerializer.append(self, to: &bytes)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}

extension JSONObject {
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValue.object(self).decode(type)
    }
}

/// `JSONValue` is itself `Codable`, so a config struct can hold an arbitrary JSON member.
extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            // Foundation's decoder does not expose key order; sort for a stable result.
            self = .object(JSONObject(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(b): try container.encode(b)
        case let .number(n):
            if n.isInteger, let i = n.int64 { try container.encode(i) } else { try container.encode(n.double) }
        case let .string(s): try container.encode(s)
        case let .array(a): try container.encode(a)
        case let .object(o):
            var map: [String: JSONValue] = [:]
            for (key, value) in o { map[key] = value }
            try container.encode(map)
        }
    }
}
