import CommandLineTool
import Testing
import Records

@Suite struct TimeTests {
    @Test func parsesRFC3339() throws {
        #expect(try Timestamp(rfc3339: "1970-01-01T00:00:00Z").secondsSinceEpoch == 0)
        #expect(try Timestamp(rfc3339: "2026-11-23T10:00:00Z").secondsSinceEpoch == 1_795_428_000)
        #expect(try Timestamp(rfc3339: "2026-11-23T12:00:00+02:00").secondsSinceEpoch == 1_795_428_000)
        #expect(try Timestamp(rfc3339: "2026-11-23T05:30:00-04:30").secondsSinceEpoch == 1_795_428_000)
        let frac = try Timestamp(rfc3339: "2026-11-23T10:00:00.123456Z").secondsSinceEpoch
        #expect(abs(frac - 1_795_428_000.123456) < 1e-6)
        #expect(try Timestamp(rfc3339: "2000-02-29t00:00:00z").secondsSinceEpoch == 951_782_400)
        #expect(try Timestamp(rfc3339: "1969-12-31T23:59:59Z").secondsSinceEpoch == -1)
    }

    @Test func formatsUTCWithMilliseconds() throws {
        #expect(Timestamp(secondsSinceEpoch: 1_795_428_000.123).rfc3339 == "2026-11-23T10:00:00.123Z")
        #expect(Timestamp(secondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(secondsSinceEpoch: -0.5).rfc3339 == "1969-12-31T23:59:59.500Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).rfc3339 == "2000-02-29T00:00:00.000Z")
        let t = try Timestamp(rfc3339: "2024-12-31T23:59:59.999Z")
        #expect(t.rfc3339 == "2024-12-31T23:59:59.999Z")
    }

    @Test(arguments: ["", "2026-11-23", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                      "2026-11-23T24:00:00Z", "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00+0200",
                      "2026-11-23T10:00:00Zjunk", "26-11-23T10:00:00Z", "2026/11/23T10:00:00Z"])
    func rejectsMalformedTimestamps(text: String) {
        #expect(throws: TimestampError.self) { try Timestamp(rfc3339: text) }
    }

    @Test func parsesDurations() throws {
        #expect(try DurationParser.seconds("90s") == 90)
        #expect(try DurationParser.seconds("2m") == 120)
        #expect(try DurationParser.seconds("1h30m") == 5400)
        #expect(try DurationParser.seconds("500ms") == 0.5)
        #expect(try DurationParser.seconds("1d") == 86_400)
        #expect(try DurationParser.seconds("1.5h") == 5400)
    }

    @Test(arguments: ["", "5", "m", "1x", "1h 30m", "-1s", "1..2s"])
    func rejectsMalformedDurations(text: String) {
        #expect(throws: DurationError.self) { try DurationParser.seconds(text) }
    }
}
