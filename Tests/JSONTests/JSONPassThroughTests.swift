import Testing
import JSON

/// A record read and written again is the same bytes: numbers keep their spelling, keys their bytes
/// and order, whatever their values are as Int64 or Double.
@Suite struct JSONPassThroughTests {
    @Test(arguments: [
        #"{"big":18446744073709551616,"huge":123456789012345678901234567890}"#,
        #"{"tiny":1e-400,"subnormal":4.9406564584124654e-324}"#,
        #"{"beyond_double":1e400,"minus":-1e400,"long_exponent":2E+99999999999999999999}"#,
        #"{"zero":-0,"negative_zero":-0.0,"plain":0}"#,
        #"{"trailing_zero":1.50,"exponent":1E+2,"small":2.5e-3,"long":3.141592653589793238462643383279}"#,
        #"{"int64_min":-9223372036854775808,"int64_max":9223372036854775807,"beyond":-9223372036854775809}"#,
        #"{"nested":[1.0,1e0,10E-1,{"x":-0}]}"#,
    ])
    func numbersKeepTheirText(text: String) throws {
        #expect(JSONSerializer.string(try JSONParser.parse(text)) == text)
    }

    /// Issue 20, item 8: strings too. An escape the serializer would spell otherwise keeps its
    /// source text, in a key, a value or anywhere under a member.
    @Test(arguments: [
        #"{"accent":"caf\u00e9","slash":"a\/b","letter":"\u0041","upper":"\u001F","pair":"\ud83d\ude00"}"#,
        #"{"caf\u00e9":1,"plain":"x"}"#,
        #"{"nested":{"deep":["\u00e9",{"k":"\/"}]},"after":1}"#,
        #"{"canonical":"a\n\t\"\\\u001f","mixed":"\u00e9\n"}"#,
    ])
    func stringsKeepTheirText(text: String) throws {
        #expect(JSONSerializer.string(try JSONParser.parse(text)) == text)
    }

    @Test func stringsReadAsTheirValues() throws {
        var record = try #require(try JSONParser.parse(#"{"a":"caf\u00e9","b":{"c":"\/","d":"\u0041"},"e":"x"}"#).object)
        #expect(record["a"] == "café" && record.value(atPath: "b.c") == "/" && record.value(atPath: "b.d") == "A")
        // A member that is set is written from its value; the others keep their text.
        record["a"] = "tea"
        #expect(JSONSerializer.string(.object(record)) == #"{"a":"tea","b":{"c":"\/","d":"\u0041"},"e":"x"}"#)
        var inner = try #require(record["b"]?.object)
        inner["d"] = "B"
        record["b"] = .object(inner)
        #expect(JSONSerializer.string(.object(record)) == #"{"a":"tea","b":{"c":"\/","d":"B"},"e":"x"}"#)
        record.removeValue(forKey: "b")
        record["f"] = "\u{e9}"
        #expect(JSONSerializer.string(.object(record)) == "{\"a\":\"tea\",\"e\":\"x\",\"f\":\"\u{e9}\"}")
        // Equality is by value, whatever the spelling.
        #expect(try JSONParser.parse(#"{"a":"caf\u00e9"}"#) == JSONParser.parse("{\"a\":\"caf\u{e9}\"}"))
        // A repeated key keeps the last value (and its spelling) in the first key's position.
        let repeated = try JSONParser.parse(#"{"k":"\u0041","m":1,"k":"z"}"#)
        #expect(JSONSerializer.string(repeated) == #"{"k":"z","m":1}"#)
        let repeatedEscaped = try JSONParser.parse(#"{"k":"z","m":1,"k":"\u0041"}"#)
        #expect(JSONSerializer.string(repeatedEscaped) == #"{"k":"\u0041","m":1}"#)
    }

    @Test func numbersReadAsTheirValues() throws {
        let record = try JSONParser.parse(#"{"big":18446744073709551616,"tiny":1e-400,"zero":-0,"frac":1.50,"exp":1e2,"max":9223372036854775807}"#)
        #expect(record["big"]?.double == 18446744073709551616.0 && record["big"]?.int == nil)
        #expect(record["tiny"]?.double == 0 && record["tiny"]?.number?.text == "1e-400")
        #expect(record["zero"]?.int == 0 && record["zero"]?.number?.isInteger == true)
        #expect(record["frac"]?.double == 1.5 && record["frac"]?.int == nil)
        #expect(record["exp"]?.int == 100 && record["exp"]?.number?.isInteger == false)
        #expect(record["max"]?.number?.int64 == Int64.max)
    }

    @Test func numbersCompareByValue() throws {
        let spellings = ["1", "1.0", "1e0", "10E-1", "1.000"]
        let values = try spellings.map { try JSONParser.parse($0) }
        for value in values { #expect(value == .int(1) && value == .double(1)) }
        #expect(Set(values).count == 1)
        #expect(try JSONParser.parse("-0") == JSONParser.parse("0.0"))
        // Exact beyond 2^53: neighbouring integers are different numbers, though one double.
        #expect(try JSONParser.parse("9007199254740993") != JSONParser.parse("9007199254740992"))
        #expect(try JSONParser.parse("9007199254740992") == .double(9007199254740992))
        #expect(try JSONParser.parse("9223372036854775807") != JSONParser.parse("9223372036854775808"))
    }

    @Test func numbersFromTextAreValidated() {
        #expect(JSONNumber(text: "1.50")?.text == "1.50")
        #expect(JSONNumber(text: "-0")?.int == 0)
        // Issue 20, item 8: a number beyond the range of doubles is a number too (value ±infinity).
        #expect(JSONNumber(text: "1e400")?.double == .infinity && JSONNumber(text: "-1e400")?.double == -.infinity)
        for bad in ["01", " 1", "1 ", "NaN", "+1", "1.", "", "\"1\""] {
            #expect(JSONNumber(text: bad) == nil, "\(bad)")
        }
    }

    @Test func nonFiniteDoublesAreNull() {
        #expect(JSONValue.double(.nan) == .null && JSONValue.double(-.infinity) == .null)
        #expect(JSONNumber(.infinity) == nil)
        #expect(JSONValue(Double?.none) == .null)
    }

    /// "é" as one scalar and as e + combining acute: canonically equivalent, so Swift's `==` and a
    /// `[String: …]` take them for one key; JSON and tokenizer.json vocabularies do not.
    @Test func canonicallyEquivalentKeysStayApart() throws {
        let text = "{\"\u{e9}\":1,\"e\u{301}\":2}"
        #expect("\u{e9}" == "e\u{301}", "Swift's own equality")
        let object = try #require(try JSONParser.parse(text).object)
        #expect(object.count == 2)
        #expect(object.keys.map { Array($0.utf8) } == [[0xC3, 0xA9], [0x65, 0xCC, 0x81]])
        #expect(object["\u{e9}"] == 1 && object["e\u{301}"] == 2)
        #expect(JSONSerializer.string(.object(object)) == text)
        #expect(JSONValue.string("\u{e9}") != JSONValue.string("e\u{301}"))
        // The same past the size where objects build a hash index.
        var large = JSONObject()
        for i in 0..<40 { large["k\(i)"] = JSONValue(i) }
        large["\u{e9}"] = 1
        large["e\u{301}"] = 2
        #expect(large.count == 42 && large["\u{e9}"] == 1 && large["e\u{301}"] == 2)
        large.removeValue(forKey: "\u{e9}")
        #expect(large["e\u{301}"] == 2 && large["\u{e9}"] == nil)
    }
}
