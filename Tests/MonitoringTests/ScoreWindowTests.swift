import Foundation
import Records
import Testing
import Monitoring

@Suite struct ScoreWindowTests {
    @Test func tumblingWindowBoundariesAreHalfOpen() throws {
        let out = try windows([traffic(0), traffic(59.999), traffic(60), traffic(119.5)], settings(period: 60))
        #expect(out.count == 2)
        #expect(out[0]["window_start"]?.string == iso(0))
        #expect(out[0]["window_end"]?.string == iso(60))
        #expect(out[0]["count"] == 2)
        #expect(out[1]["window_start"]?.string == iso(60))
        #expect(out[1]["count"] == 2)
        #expect(out[0]["rps"]?.double == 2.0 / 60)
    }

    @Test func windowsCloseAsEventTimePassesTheirEnd() throws {
        let engine = try ScoreWindow(settings: settings(period: 60))
        #expect(try engine.add(traffic(10)).isEmpty)
        #expect(try engine.add(traffic(59)).isEmpty)
        let closed = try engine.add(traffic(60))
        #expect(closed.count == 1)
        #expect(closed[0]["count"] == 2)
        #expect(engine.finish().count == 1)
    }

    @Test func slidingWindowsCountARecordInEachWindowCoveringIt() throws {
        let out = try windows([traffic(0), traffic(45), traffic(70)], settings(period: 60, every: 30))
        // Windows starting at -30, 0, 30, 60 cover the records.
        let starts = out.map { $0["window_start"]?.string ?? "" }
        #expect(starts == [iso(-30), iso(0), iso(30), iso(60)])
        #expect(out.map { $0["count"]?.int ?? -1 } == [1, 2, 2, 1])
    }

    @Test func lateRecordsWithinLatenessCountAndLaterOnesAreDropped() throws {
        let engine = try ScoreWindow(settings: settings(period: 60, lateness: 30))
        var late: [Double] = []
        engine.onLate = { late.append($0) }
        var out: [JSONObject] = []
        out += try engine.add(traffic(50))
        out += try engine.add(traffic(80))  // watermark 50: window [0,60) still open
        out += try engine.add(traffic(55))  // 25 s late, within lateness
        #expect(out.isEmpty)
        out += try engine.add(traffic(95))  // watermark 65: [0,60) closes
        #expect(out.count == 1)
        #expect(out[0]["count"] == 2)
        out += try engine.add(traffic(58))  // its window closed: late, dropped
        #expect(late.count == 1)
        out += engine.finish()
        #expect(out.count == 2)
        #expect(out[1]["count"] == 2)
    }

    @Test func groupsAreSeparateAndGapsGiveEmptyWindows() throws {
        let records = [traffic(1, model: "a"), traffic(2, model: "b"), traffic(130, model: "a")]
        let out = try windows(records, settings(period: 60, by: ["model", "adapter"]))
        let summary = out.map { "\($0["window_start"]!.string!)|\($0["group"]!["model"]!.string!)|\($0["count"]!.int!)" }
        #expect(summary == ["\(iso(0))|a|1", "\(iso(0))|b|1", "\(iso(60))|a|0", "\(iso(60))|b|0",
                            "\(iso(120))|a|1", "\(iso(120))|b|0"])
        #expect(out[0]["group"] == ["model": "a", "adapter": nil])
        let empty = out[2]
        #expect(empty["metrics"] == [:])
        #expect(empty["latency"]?["latency_ms"] == ["n": 0, "mean": nil, "p50": nil, "p90": nil, "p99": nil])
        #expect(empty["tokens"]?["prompt_tokens"] == ["n": 0, "sum": 0, "mean": nil])
        #expect(!empty.description.contains("nan"))
    }

    @Test func percentilesInterpolateLinearly() throws {
        // latency 1...100: numpy.percentile gives p50 50.5, p90 90.1, p99 99.01.
        let records = (1...100).map { traffic(Double($0) * 0.1, latency: Double($0)) }
        let out = try windows(records, settings(period: 60))
        let latency = try #require(out.first?["latency"]?["latency_ms"])
        #expect(latency["p50"]?.double == 50.5)
        #expect(abs((latency["p90"]?.double ?? 0) - 90.1) < 1e-9)
        #expect(abs((latency["p99"]?.double ?? 0) - 99.01) < 1e-9)
        #expect(latency["mean"]?.double == 50.5)
    }

    @Test func judgeMetricsMeanStdPassAndErrorRates() throws {
        let records = [traffic(1, score: 1), traffic(2, score: 0), traffic(3, score: 0.8, pass: false),
                       traffic(4, score: nil, status: "error"), traffic(5, score: nil, status: "not_judged")]
        var s = settings(period: 60)
        s.passThreshold = 0.7
        let out = try windows(records, s)
        let m = try #require(out.first?["metrics"]?["banking"])
        #expect(m["n"] == 3)
        #expect(abs((m["mean"]?.double ?? 0) - 0.6) < 1e-12)
        // sample std of [1, 0, 0.8]
        #expect(abs((m["std"]?.double ?? 0) - 0.5291502622129182) < 1e-12)
        #expect(m["pass_rate"]?.double == 1.0 / 3)  // 1 passes; 0 fails; 0.8 has pass=false
        #expect(m["error_rate"]?.double == 0.25)
        #expect(m["not_judged"] == 1)
        #expect(out.first?["count"] == 5)
    }

    @Test func metricWithoutScoresIsReportedAsSuch() throws {
        let out = try windows([traffic(1, score: nil, status: "error")], settings(period: 60))
        let m = try #require(out.first?["metrics"]?["banking"])
        #expect(m == ["n": 0, "mean": nil, "std": nil, "pass_rate": nil, "error_rate": 1.0, "errors": 1, "not_judged": 0])
    }

    @Test func feedbackRecordsAreTheUserFeedbackMetric() throws {
        let feedback: JSONObject = ["type": "feedback", "id": "r", "score": 0, "ts": .string(iso(3))]
        let out = try windows([traffic(1), feedback], settings(period: 60))
        #expect(out.first?["count"] == 1)
        #expect(out.first?["metrics"]?["user_feedback"]?["mean"] == 0.0)
    }

    @Test func badRecordsThrowRecordErrorsNamingTheField() throws {
        let engine = try ScoreWindow(settings: settings())
        #expect(throws: RecordError("missing field 'ts' (an RFC 3339 timestamp)")) { try engine.add(["id": "x"]) }
        var wrong = traffic(1)
        wrong["latency_ms"] = "slow"
        #expect(throws: RecordError("field 'latency_ms' must be a number, found string")) { try engine.add(wrong) }
        var badTime = traffic(1)
        badTime["ts"] = "yesterday"
        #expect(throws: RecordError.self) { try engine.add(badTime) }
        // A number beyond the range of doubles (1e400) reads as infinity: an error, not a null mean.
        var huge = try #require(try JSONParser.parse(#"{"ts":"2026-01-01T00:00:00Z","latency_ms":1e400}"#).object)
        #expect(throws: RecordError("field 'latency_ms' is 1e400, beyond the range of a double")) { try engine.add(huge) }
        huge = try #require(try JSONParser.parse(#"{"ts":"2026-01-01T00:00:00Z","m":{"status":"ok","score":-1E+400}}"#).object)
        #expect(throws: RecordError("judge metric 'm' has status ok but its score -1E+400 is beyond the range of a double")) { try engine.add(huge) }
    }

    @Test func emptyInputGivesNoWindows() throws {
        #expect(try windows([], settings()).isEmpty)
    }

    @Test func invalidSettingsAreRejected() {
        #expect(throws: FatalError.self) { try ScoreWindow(settings: settings(period: 0)) }
        #expect(throws: FatalError.self) { try ScoreWindow(settings: settings(period: 60, every: 120)) }
    }

    @Test func driftAgainstTheFirstWindowsOnlyAfterTheyAreLearnt() throws {
        var s = settings(period: 60)
        s.drift.minSamples = 5
        var records: [JSONObject] = []
        for i in 0..<20 { records.append(traffic(Double(i), latency: 100 + Double(i % 5))) }
        for i in 0..<20 { records.append(traffic(60 + Double(i), latency: 100 + Double(i % 5))) }
        for i in 0..<20 { records.append(traffic(120 + Double(i), latency: 400 + Double(i % 5))) }
        for i in 0..<3 { records.append(traffic(180 + Double(i), latency: 100)) }
        let out = try windows(records, s, reference: DriftReference(firstWindows: 1))
        #expect(out[0]["drift"]?["latency_ms"]?["status"] == "reference")
        #expect(out[1]["drift"]?["latency_ms"]?["status"] == "no_drift")
        #expect(out[1]["drift"]?["latency_ms"]?["psi"]?["value"]?.double == 0)
        #expect(out[2]["drift"]?["latency_ms"]?["status"] == "drift")
        #expect(out[2]["drift"]?["latency_ms"]?["ks"]?["statistic"] == 1.0)
        #expect(out[3]["drift"]?["latency_ms"]?["status"] == "not_enough_data")
    }
}

@Suite struct ScoreWindowGapTests {
    @Test func longSilencesAreSkippedNotFilled() throws {
        let out = try windows([traffic(0), traffic(60 * 5000)], settings(period: 60))
        #expect(out.map { $0["count"]?.int ?? -1 } == [1, 1])
        let short = try windows([traffic(0), traffic(60 * 3)], settings(period: 60))
        #expect(short.map { $0["count"]?.int ?? -1 } == [1, 0, 0, 1])
    }
}
