import Foundation
import Testing
import JSON

@Suite struct JSONSerializerTests {
    @Test func roundTripsPreservingKeyOrder() throws {
        let text = #"{"zeta":1,"alpha":"x","mid":{"b":[1,2.5,null,true],"a":{}},"e":"\u0001\n\"\\é😀","f":1.0,"g":-0.0,"h":1e-07,"i":[]}"#
        let value = try JSONParser.parse(text)
        #expect(value.object?.keys == ["zeta", "alpha", "mid", "e", "f", "g", "h", "i"])
        let written = JSONSerializer.string(value)
        #expect(written == text)
        #expect(try JSONParser.parse(written) == value)
    }

    @Test func doublesUseTheShortestRoundTripForm() throws {
        for d in [0.1, 1.0 / 3.0, 1e300, Double.leastNonzeroMagnitude, 123456.789, -2.5, 1e16] {
            let written = JSONSerializer.string(.double(d))
            #expect(try JSONParser.parse(written) == .double(d), "\(written)")
        }
        #expect(JSONSerializer.string(.double(1.0)) == "1.0")
        #expect(JSONSerializer.string(.double(0.1)) == "0.1")
    }

    @Test func prettyFormIsPythonsIndentTwo() throws {
        let value = try JSONParser.parse(#"{"a":[1,{"b":null}],"c":{},"d":[],"e":"x\u00e9","f":1.50}"#)
        #expect(JSONSerializer.prettyString(value) == """
        {
          "a": [
            1,
            {
              "b": null
            }
          ],
          "c": {},
          "d": [],
          "e": "xé",
          "f": 1.50
        }

        """)
        #expect(try JSONParser.parse(JSONSerializer.prettyString(value)) == value)
    }

    @Test func nonFiniteDoublesBecomeNull() {
        #expect(JSONSerializer.string(.double(.nan)) == "null")
        #expect(JSONSerializer.string(.double(.infinity)) == "null")
    }

    @Test func escapesEveryControlCharacter() throws {
        let all = String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })
        let written = JSONSerializer.string(.string(all))
        #expect(!written.utf8.contains { $0 < 0x20 })
        #expect(try JSONParser.parse(written).string == all)
    }

    @Test func objectKeepsOrderThroughEdits() {
        var object: JSONObject = ["b": 1, "a": 2, "c": 3]
        object["a"] = 20
        object["d"] = 4
        object.removeValue(forKey: "b")
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["a"] == 20)
        object["c"] = nil
        #expect(object.keys == ["a", "d"])
    }

    @Test func largeObjectsUseTheIndexConsistently() {
        var object = JSONObject()
        for i in 0..<100 { object["k\(i)"] = JSONValue(i) }
        #expect(object["k57"] == 57)
        object.removeValue(forKey: "k10")
        #expect(object["k11"] == 11)
        #expect(object["k10"] == nil)
        #expect(object.count == 99)
        #expect(object.keys[10] == "k11")
    }

    struct Config: Codable, Equatable {
        var name: String
        var threshold: Double
        var tags: [String]
    }

    @Test func bridgesCodable() throws {
        let config = Config(name: "r", threshold: 0.5, tags: ["a"])
        let value = try JSONValue(encoding: config)
        #expect(value["threshold"]?.double == 0.5)
        #expect(try value.decode(Config.self) == config)
    }

    @Test func accessorsAndPaths() throws {
        let value = try JSONParser.parse(#"{"metrics":{"m":{"mean":0.5,"n":3}},"ok":true}"#)
        #expect(value.value(atPath: "metrics.m.mean")?.double == 0.5)
        #expect(value.value(atPath: "metrics.m.n")?.int == 3)
        #expect(value.value(atPath: "metrics.m.n")?.double == 3)
        #expect(value.value(atPath: "metrics.x.mean") == nil)
        #expect(value["ok"]?.bool == true)
        #expect(value["ok"]?.string == nil)
    }
}
