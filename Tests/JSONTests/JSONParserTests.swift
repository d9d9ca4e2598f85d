import Testing
import JSON

@Suite struct JSONParserTests {
    @Test func parsesAllKindsOfValues() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2, 3.5, 1e2, true, false, null], "b": {"c": "d"}} "#)
        #expect(value["a"] == [1, -2, 3.5, 100.0, true, false, nil])
        #expect(value["b"]?["c"]?.string == "d")
    }

    @Test func integersStayIntegersAndDoublesStayDoubles() throws {
        #expect(try JSONParser.parse("42") == .int(42))
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("1.0") == .double(1.0))
        #expect(try JSONParser.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSONParser.parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try JSONParser.parse("123456789012345678901234") == .double(123456789012345678901234.0))
    }

    @Test func numbersMatchTheStandardLibrary() throws {
        let texts = ["0.1", "0.3", "2.5e-3", "1.7976931348623157e308", "5e-324", "123.456e7", "-0.000123",
                     "3.141592653589793238462643383279", "1E+22", "1e23", "0.000000000000000000000000001",
                     "9007199254740993", "9007199254740993.0", "4.9406564584124654e-324", "0.30000000000000004"]
        for text in texts {
            let expected = try #require(Double(text))
            #expect(try JSONParser.parse(text).double == expected, "\(text)")
        }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#)
        #expect(value.string == "a\"b\\c/d\u{8}\u{c}\n\r\té😀")
        #expect(try JSONParser.parse(#""naïve 日本""#).string == "naïve 日本")
    }

    @Test func duplicateKeysKeepFirstPositionAndLastValue() throws {
        let object = try #require(try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#).object)
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 3)
    }

    @Test(arguments: [
        ("", "empty input"),
        ("{", "end of input"),
        ("{\"a\":1,}", "expected a string key"),
        ("[1,]", "expected a value"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\"a\" 1}", "expected ':'"),
        ("01", "leading zero"),
        ("1.", "digit after '.'"),
        ("-", "digit after '-'"),
        ("1e", "digit in the exponent"),
        (".5", "expected a value"),
        ("NaN", "expected a value"),
        ("tru", "expected 'true'"),
        ("\"abc", "unterminated string"),
        ("\"a\u{01}b\"", "raw control character"),
        ("\"\\x\"", "invalid escape"),
        ("\"\\u12G4\"", "invalid hex digit"),
        ("\"\\ud83d\"", "not followed by a low surrogate"),
        ("\"\\ude00\"", "lone low surrogate"),
        ("\"\\ud83d\\u0041\"", "not a low surrogate"),
        ("{} x", "after the JSON value"),
        ("{'a':1}", "expected a string key"),
    ])
    func rejectsMalformedInput(text: String, reason: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("accepted \(text)")
        } catch let error as JSONParseError {
            #expect(error.reason.contains(reason), "\(text): \(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func errorsCarryTheByteColumn() {
        #expect(throws: JSONParseError(column: 8, reason: "expected ',' or '}' in object, found '2'")) {
            try JSONParser.parse(#"{"a":1 2}"#)
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: [0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: [0x22, 0xFF, 0x22]) }
    }

    @Test func limitsNestingDepth() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try JSONParser.parse(ok).array != nil)
    }
}

@Suite struct UTF8ValidationTests {
    func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { UTF8Validator.isValid($0) } }

    @Test func acceptsWhatTheStandardLibraryAccepts() {
        let samples: [[UInt8]] = [Array("plain ascii text, longer than eight bytes".utf8), Array("é日本😀".utf8),
                                  [0xED, 0x9F, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xEF, 0xBF, 0xBF]]
        for s in samples { #expect(valid(s)) }
    }

    @Test(arguments: [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                      [0xF8, 0x80, 0x80, 0x80, 0x80], [0x80], [0xE6, 0x97], [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xFF]] as [[UInt8]])
    func rejectsInvalidSequences(bytes: [UInt8]) {
        #expect(!valid(bytes))
        #expect(String(validating: bytes, as: UTF8.self) == nil)
    }
}
