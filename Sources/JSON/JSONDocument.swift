import Foundation

/// A JSON file read as one document (config.json, tokenizer.json, adapter_config.json): parsed by
/// `JSONParser` and, for a `Decodable` type, decoded through the `Codable` bridge. Errors are
/// sentences for a user, with the file's name left to the caller: a syntax error names its line
/// and column, a decoding error the key (`DecodingError.message(in:)`).
public enum JSONDocument {
    public static func parse(_ data: Data, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONDocumentError) -> JSONValue {
        do {
            return try data.withUnsafeBytes { raw in
                try JSONParser.parse(raw.bindMemory(to: UInt8.self), maxDepth: maxDepth)
            }
        } catch let error as JSONParseError {
            throw JSONDocumentError(message: error.documentDescription)
        } catch {
            throw JSONDocumentError(message: "not valid JSON: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(JSONDocumentError) -> T {
        try decode(type, from: parse(data))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from document: JSONValue) throws(JSONDocumentError) -> T {
        do {
            return try document.decode(type)
        } catch let error as DecodingError {
            throw JSONDocumentError(message: error.message(in: document))
        } catch {
            throw JSONDocumentError(message: "\(error)")
        }
    }
}

/// What is wrong with a JSON document, in a sentence without the file's name.
public struct JSONDocumentError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}
