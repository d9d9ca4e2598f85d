import Foundation
import Records
import Testing
import Monitoring

/// `--origin`: where the grid of windows is anchored. The loop relies on `start` to window each
/// traffic phase whole, wherever the clock stood, so these tests place batches across the marks of
/// the clock and compare them with the same batches placed between marks.
@Suite struct WindowOriginTests {
    func withOrigin(_ origin: WindowOrigin, period: Double = 600, every: Double? = nil) -> ScoreWindowSettings {
        var s = settings(period: period, every: every)
        s.origin = origin
        return s
    }

    /// The window records with their times left out: what a verdict is made of.
    func contents(_ windows: [JSONObject]) -> [JSONObject] {
        windows.map { var w = $0; w["window_start"] = nil; w["window_end"] = nil; return w }
    }

    /// A phase of 40 s of traffic (scores alternating), starting `offset` seconds after baseTime.
    func phase(at offset: Double) -> [JSONObject] {
        (0..<12).map { (i: Int) -> JSONObject in
            let time: Double = offset + Double(i) * 3.5
            let score: Double = i % 3 == 0 ? 0 : 1
            return traffic(time, score: score, latency: Double(100 + i))
        }
    }

    @Test func theEpochOriginSplitsABatchAtTheClocksMark() throws {
        // The failure the loop had: a 40 s phase starting 20 s before hh:10:00 gives two windows.
        let out = try windows(phase(at: 600 - 20), withOrigin(.epoch))
        #expect(out.count == 2)
        #expect(out.first?["window_start"]?.string == iso(0))
    }

    @Test func theStartOriginKeepsABatchWholeWhereverTheClockStands() throws {
        let reference = try windows(phase(at: 123), withOrigin(.start))
        #expect(reference.count == 1)
        #expect(reference[0]["count"] == 12)
        #expect(reference[0]["window_start"]?.string == iso(123))
        #expect(reference[0]["window_end"]?.string == iso(723))
        // Across a 10-minute mark, an hour's, a day's, at a mark exactly, and just before one.
        let offsets: [Double] = [580, 3599, 86_361, 600, 599.875, -7.25]
        for offset in offsets {
            let out = try windows(phase(at: offset), withOrigin(.start))
            #expect(out.count == 1, "phase at \(offset)")
            #expect(contents(out) == contents(reference), "phase at \(offset)")
            #expect(out.first?["window_start"]?.string == iso(offset))
        }
    }

    @Test func theStartOriginTilesLaterWindowsFromTheFirstRecord() throws {
        let out = try windows([traffic(5), traffic(64), traffic(65), traffic(200)], withOrigin(.start, period: 60))
        #expect(out.map { $0["window_start"]?.string } == [iso(5), iso(65), iso(125), iso(185)])
        #expect(out.map { $0["count"]?.int } == [2, 1, 0, 1])
    }

    @Test func theStartOriginWithSlidingWindowsCoversTheFirstRecordInEveryWindow() throws {
        let out = try windows([traffic(10), traffic(40)], withOrigin(.start, period: 60, every: 30))
        #expect(out.map { $0["window_start"]?.string } == [iso(-20), iso(10), iso(40)])
        #expect(out.map { $0["count"]?.int } == [1, 2, 1])
    }

    @Test func anInstantOriginPlacesTheGridThroughIt() throws {
        let origin = try WindowOrigin(text: iso(15))
        #expect(origin == .instant(baseTime + 15))
        let out = try windows([traffic(10), traffic(20), traffic(80)], withOrigin(origin, period: 60))
        #expect(out.map { $0["window_start"]?.string } == [iso(-45), iso(15), iso(75)])
        #expect(out.map { $0["count"]?.int } == [1, 1, 1])
    }

    @Test func aLateRecordBeforeTheFirstCountsWhileItsWindowIsOpen() throws {
        var s = withOrigin(.start, period: 60)
        s.lateness = 30
        let out = try windows([traffic(100), traffic(90), traffic(170)], s)
        // The grid runs through 100: the record at 90 is in [40, 100), still open at watermark 70.
        #expect(out.map { $0["window_start"]?.string } == [iso(40), iso(100), iso(160)])
        #expect(out.map { $0["count"]?.int } == [1, 1, 1])
    }

    @Test func originsParseAndRoundTripThroughTheSettingsFile() throws {
        #expect(try WindowOrigin(text: "epoch") == .epoch)
        #expect(try WindowOrigin(text: "start") == .start)
        for bad in ["", "first", "Start", "2026-13-01T00:00:00Z", "1795428000"] {
            #expect(throws: FatalError.self, "'\(bad)'") { try WindowOrigin(text: bad) }
        }
        let decoded = try JSONDecoder().decode(ScoreWindowSettings.self, from: Data(#"{"period": 3600, "origin": "start"}"#.utf8))
        #expect(decoded.origin == .start)
        #expect(try JSONDecoder().decode(ScoreWindowSettings.self, from: Data(#"{"period": 60}"#.utf8)).origin == .epoch)
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ScoreWindowSettings.self, from: Data(#"{"origin": "noon"}"#.utf8))
        }
        #expect("\(String(describing: error))".contains("origin must be"))
        let again = try JSONDecoder().decode(ScoreWindowSettings.self, from: JSONEncoder().encode(withOrigin(.instant(baseTime))))
        #expect(again.origin == .instant(baseTime))
    }

    /// Durations in a settings file are written as the flags take them, or as seconds.
    @Test func settingsDurationsTakeUnits() throws {
        let decoded = try JSONDecoder().decode(ScoreWindowSettings.self, from: Data(#"{"period": "2m", "every": "30s", "lateness": 5}"#.utf8))
        #expect(decoded.period == 120 && decoded.every == 30 && decoded.lateness == 5)
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ScoreWindowSettings.self, from: Data(#"{"period": "2 minutes"}"#.utf8))
        }
        #expect("\(String(describing: error))".contains("invalid duration '2 minutes'"))
    }
}
