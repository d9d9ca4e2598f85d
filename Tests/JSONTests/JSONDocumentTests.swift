import Foundation
import Testing
import JSON

/// Whole files (config.json, tokenizer.json): syntax errors name the line and column, decoding
/// errors the key and what the file holds there.
@Suite struct JSONDocumentTests {
    func parse(_ text: String) throws(JSONDocumentError) -> JSONValue { try JSONDocument.parse(Data(text.utf8)) }

    func failure(_ text: String) -> String {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            return error.message
        }
        return ""
    }

    @Test func keepsCanonicallyEquivalentKeysApart() throws {
        let value = try parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        guard case let .object(members) = value else { Issue.record("not an object"); return }
        #expect(members.count == 2)
        #expect(members.keys.map { Array($0.utf8) } == [[0xC3, 0xA9], [0x65, 0xCC, 0x81]])
    }

    @Test func parsesScalarsEscapesAndSurrogates() throws {
        let value = try parse(#"[true, false, null, -1.5e2, "\n\t\"\\\/", "\ud83c\udf89"]"#)
        #expect(value == .array([.bool(true), .bool(false), .null, .double(-150), .string("\n\t\"\\/"), .string("🎉")]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "[1] 2", "\"\\x\"", "\"\\ud800\"", "\"a\u{01}\"",
                      String(repeating: "[", count: 600)])
    func rejectsMalformedInput(text: String) {
        #expect(failure(text).hasPrefix("not valid JSON: line 1, column "))
    }

    @Test func reportsTheLineAndColumn() {
        #expect(failure("{\n\"a\": 1,\n\"b\": ?}") == "not valid JSON: line 3, column 6: unexpected '?', expected a value")
        #expect(throws: JSONParseError(line: 2, column: 7, reason: "expected ',' or '}' in object, found '2'")) {
            try JSONParser.parse("{\n\"a\":1 2}")
        }
        // A record is one line: its errors keep the column form.
        #expect(JSONParseError(column: 8, reason: "r").description == "invalid JSON at column 8: r")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONDocumentError.self) { try JSONDocument.parse(Data([0x22, 0xFF, 0x22])) }
    }

    struct Settings: Decodable, Equatable {
        struct Layer: Decodable, Equatable { var width: Int }
        var name: String
        var rate: Double
        var layers: [Layer]
        var tags: [String]?
    }

    func decodeFailure(_ text: String) -> String {
        do {
            _ = try JSONDocument.decode(Settings.self, from: Data(text.utf8))
            Issue.record("decoded \(text)")
        } catch {
            return error.message
        }
        return ""
    }

    @Test func decodesThroughTheOneParser() throws {
        let settings = try JSONDocument.decode(Settings.self, from: Data(#"{"name": "a", "rate": 1e-4, "layers": [{"width": 2}]}"#.utf8))
        #expect(settings == Settings(name: "a", rate: 1e-4, layers: [.init(width: 2)], tags: nil))
    }

    @Test func decodingErrorsNameTheKeyAndTheValue() {
        #expect(decodeFailure(#"{"rate": 1, "layers": []}"#) == "missing key 'name'")
        #expect(decodeFailure(#"{"name": "a", "rate": 1, "layers": [{"width": 2}, {}]}"#) == "missing key 'layers[1].width'")
        #expect(decodeFailure(#"{"name": "a", "rate": "fast", "layers": []}"#)
                == #"key 'rate' is not valid: 'rate' must be a number, found "fast""#)
        #expect(decodeFailure(#"{"name": "a", "rate": 1, "layers": [{"width": 2.5}]}"#).contains("does not fit"))
        #expect(decodeFailure(#"{"name": "a", "rate": 1, "layers": {}}"#) == "key 'layers' is not valid: 'layers' must be an array, found {}")
        #expect(decodeFailure(#"{"name": null, "rate": 1, "layers": []}"#) == "key 'name' is null: 'name' must be a string")
        #expect(decodeFailure("[1]") == "the document must be an object, found [1]")
        #expect(decodeFailure(#"{"name": "a", "rate": 1, "layers": [], "tags": [1]}"#)
                == "key 'tags[0]' is not valid: 'tags[0]' must be a string, found 1")
        #expect(decodeFailure(#"{"name": ["#  + String(repeating: "\"y\",", count: 20) + #""z"], "rate": 1, "layers": []}"#)
                .hasSuffix(#"found ["y","y","y","y","y","y","y","y","y",..."#))
        #expect(decodeFailure("{\"name\": ").hasPrefix("not valid JSON: line 1, column 10"))
    }
}
