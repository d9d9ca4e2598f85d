import Foundation
import Records
import Testing
import Monitoring

/// xorshift64*: a small seeded generator, so that a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 0x2545_F491_4F6C_DD1D | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// A random judged stream: several groups (one without the field), two judge metrics with scores
/// discrete or continuous, judge errors and unjudged records, missing fields, latencies over six
/// orders of magnitude, feedback records, and times that go back by up to 5 s.
func randomStream(seed: UInt64, count: Int) -> [JSONObject] {
    var rng = SeededGenerator(seed: seed)
    var time = Double.random(in: 0..<600, using: &rng)
    var out: [JSONObject] = []
    for i in 0..<count {
        time += Double.random(in: 0..<4, using: &rng)
        let ts = time - (Int.random(in: 0..<4, using: &rng) == 0 ? Double.random(in: 0..<5, using: &rng) : 0)
        if Int.random(in: 0..<25, using: &rng) == 0 {
            out.append(["type": "feedback", "id": .string("f\(i)"), "score": JSONValue(Double(Int.random(in: 0...4, using: &rng)) / 4),
                        "ts": .string(iso(ts))])
            continue
        }
        var record: JSONObject = ["id": .string("r\(i)"), "ts": .string(iso(ts))]
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: break  // no group field: the group is null
        case let g: record["model"] = .string(["a", "b", "c"][g - 1])
        }
        if Int.random(in: 0..<8, using: &rng) != 0 {
            let latency = pow(10, Double.random(in: -1...5, using: &rng))
            record["latency_ms"] = JSONValue(latency)
            record["ttft_ms"] = JSONValue((latency * Double.random(in: 0.01...0.5, using: &rng) * 10).rounded() / 10)
        } else if Bool.random(using: &rng) {
            record["latency_ms"] = .null
        }
        if Bool.random(using: &rng) { record["tpot_ms"] = JSONValue(Double(Int.random(in: 1...40, using: &rng))) }
        if Int.random(in: 0..<5, using: &rng) != 0 {
            record["prompt_tokens"] = JSONValue(Int.random(in: 1...4000, using: &rng))
            record["completion_tokens"] = JSONValue(Int.random(in: 0...512, using: &rng))
        }
        if Int.random(in: 0..<6, using: &rng) != 0 {
            record["answer"] = .string(String(repeating: "é", count: Int.random(in: 0...300, using: &rng)))
        }
        for (name, discrete) in [("banking", true), ("tone", false)] where Int.random(in: 0..<5, using: &rng) != 0 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: record[name] = ["score": nil, "status": "error"]
            case 1: record[name] = ["score": nil, "status": "not_judged"]
            default:
                let score = discrete ? Double(Int.random(in: 0...1, using: &rng)) : Double.random(in: -1...1, using: &rng)
                var judge: JSONObject = ["score": JSONValue(score), "status": "ok"]
                if Bool.random(using: &rng) { judge["pass"] = .bool(Bool.random(using: &rng)) }
                record[name] = .object(judge)
            }
        }
        out.append(record)
    }
    return out
}

/// `records` split into `k` partitions, each keeping the stream's order: contiguous runs, or each
/// record dealt to a random partition.
func split(_ records: [JSONObject], into k: Int, interleaved: Bool, seed: UInt64) -> [[JSONObject]] {
    var rng = SeededGenerator(seed: seed)
    var parts = Array(repeating: [JSONObject](), count: k)
    if interleaved {
        for record in records { parts[Int.random(in: 0..<k, using: &rng)].append(record) }
    } else {
        var cuts = (0..<(k - 1)).map { _ in Int.random(in: 0...records.count, using: &rng) }.sorted()
        cuts.append(records.count)
        var start = 0
        for (i, cut) in cuts.enumerated() {
            parts[i] = Array(records[start..<cut])
            start = cut
        }
    }
    return parts
}

/// The partial records of one partition, written out as JSON text and read back, as a pipe would.
func partials(_ records: [JSONObject], _ s: ScoreWindowSettings, exactLimit: Int) throws -> [JSONObject] {
    let engine = try ScoreWindow(settings: s, partial: true, exactLimit: exactLimit)
    var out: [JSONObject] = []
    for record in records { out += try engine.add(record) }
    out += engine.finish()
    return try out.map { try #require(try JSONParser.parse($0.description).object) }
}

func merged(_ parts: [JSONObject], drift: DriftSettings = DriftSettings(), referenceWindows: Int? = nil) throws -> [JSONObject] {
    let merger = WindowMerger(drift: drift) { _ in referenceWindows.map { DriftReference(firstWindows: $0) } }
    for part in parts { try merger.add(part) }
    return try merger.finish()
}

/// Windows keyed by start and group, for comparing runs whose groups may come in another order.
func keyed(_ windows: [JSONObject]) -> [String: JSONObject] {
    var out: [String: JSONObject] = [:]
    for w in windows { out["\(w["window_start"]?.string ?? "")|\(w["group"]?.description ?? "")"] = w }
    return out
}

/// Checks a merged window against the single run's: every figure equal, percentiles within the
/// sketch's bound (equal while the distributions are exact).
func expectMerged(_ m: JSONObject, equals w: JSONObject, exact: Bool, context: String) {
    for member in ["window_end", "count", "rps", "metrics", "tokens", "answer_chars"] {
        #expect(m[member] == w[member], "\(member): \(m[member]?.description ?? "nil") vs \(w[member]?.description ?? "nil") \(context)")
    }
    for field in TrafficFeatures.latencyFields {
        let a = m["latency"]?[field], b = w["latency"]?[field]
        #expect(a?["n"] == b?["n"] && a?["mean"] == b?["mean"], "\(field) \(context)")
        for p in ["p50", "p90", "p99"] {
            guard let x = a?[p]?.double, let y = b?[p]?.double else {
                #expect(a?[p] == b?[p], "\(field).\(p) \(context)")
                continue
            }
            if exact {
                #expect(x == y, "\(field).\(p): \(x) vs \(y) \(context)")
            } else {
                let bound = ValueDistribution.relativeAccuracy * abs(y) * (1 + 1e-9)
                #expect(abs(x - y) <= bound, "\(field).\(p): \(x) vs exact \(y), bound \(bound) \(context)")
            }
        }
    }
}

@Suite struct PartialWindowTests {
    /// Any split of a stream into k = 1…6 partitions, contiguous or interleaved, partial each, merge:
    /// the windows of the single run, counts, means, standard deviations, pass and error rates and
    /// token sums to the last bit, percentiles equal while exact and within α once sketched.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func anySplitMergesToTheWhole(seed: UInt64) throws {
        var s = settings(period: 60, every: seed % 3 == 0 ? 20 : nil, by: ["model"], lateness: 10)
        s.passThreshold = 0.25
        let records = randomStream(seed: seed, count: 600)
        let whole = try windows(records, s)
        #expect(whole.count > 5)
        let expected = keyed(whole)
        for k in 1...6 {
            for interleaved in [false, true] {
                for exactLimit in [ValueDistribution.defaultExactLimit, 4] {
                    let parts = split(records, into: k, interleaved: interleaved, seed: seed * 100 + UInt64(k))
                    let all = try parts.flatMap { try partials($0, s, exactLimit: exactLimit) }
                    let out = try merged(all)
                    let context = "(seed \(seed), k \(k), interleaved \(interleaved), exact limit \(exactLimit))"
                    #expect(out.count == whole.count, "\(context)")
                    #expect(Set(keyed(out).keys) == Set(expected.keys), "\(context)")
                    for (key, m) in keyed(out) {
                        guard let w = expected[key] else { continue }
                        expectMerged(m, equals: w, exact: exactLimit >= 600, context: "\(key) \(context)")
                    }
                    if exactLimit >= 600 { #expect(keyed(out) == expected, "exact: the same records \(context)") }
                }
            }
        }
    }

    /// The merged result does not depend on the order of the partials, nor on merging in stages
    /// (merging merged partials equals merging all of them).
    @Test(arguments: [UInt64(11), 12, 13])
    func mergeIsOrderIndependentAndAssociative(seed: UInt64) throws {
        let s = settings(period: 60, by: ["model"])
        let records = randomStream(seed: seed, count: 500)
        var rng = SeededGenerator(seed: seed)
        for exactLimit in [ValueDistribution.defaultExactLimit, 3] {
            let all = try split(records, into: 5, interleaved: true, seed: seed).flatMap { try partials($0, s, exactLimit: exactLimit) }
            let direct = try merged(all)
            let shuffled = try merged(all.shuffled(using: &rng))
            #expect(keyed(shuffled) == keyed(direct))
            // Two levels: random groups of partials merged into partials, then those merged.
            let cut = Int.random(in: 0...all.count, using: &rng)
            var staged: [JSONObject] = []
            for slice in [Array(all[..<cut]), Array(all[cut...])] where !slice.isEmpty {
                let merger = WindowMerger()
                for part in slice.shuffled(using: &rng) { try merger.add(part) }
                staged += try merger.mergedPartials().map { try #require(try JSONParser.parse($0.description).object) }
            }
            #expect(keyed(try merged(staged)) == keyed(direct), "exact limit \(exactLimit)")
        }
    }

    /// Drift on merged windows: identical to the single run while the values are kept exactly.
    @Test func driftOnMergedWindowsMatchesTheSingleRun() throws {
        var s = settings(period: 120, by: ["model"], lateness: 10)
        s.drift.minSamples = 5
        let records = randomStream(seed: 21, count: 800)
        let whole = try windows(records, s, reference: DriftReference(firstWindows: 1))
        let all = try split(records, into: 4, interleaved: true, seed: 21).flatMap { try partials($0, s, exactLimit: 4096) }
        let out = try merged(all, drift: s.drift, referenceWindows: 1)
        let expected = keyed(whole)
        #expect(out.count == whole.count)
        for (key, m) in keyed(out) {
            #expect(m["drift"] == expected[key]?["drift"], "\(key)")
        }
        #expect(out.contains { $0["drift"]?["latency_ms"]?["status"] == "drift" || $0["drift"]?["latency_ms"]?["status"] == "no_drift" })
    }

    @Test func exactSumsDoNotDependOnOrderOrGrouping() {
        var rng = SeededGenerator(seed: 5)
        let values = (0..<2000).map { _ in pow(10, Double.random(in: -8...12, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) }
        let whole = ExactSum(values)
        let shuffled = ExactSum(values.shuffled(using: &rng))
        var parts = ExactSum(values[..<700])
        parts.add(ExactSum(values[700...]))
        #expect(whole.value == shuffled.value && whole.value == parts.value)
        #expect(ExactSum([0.1, 0.2, 0.3]).value == 0.6)  // 0.1 + 0.2 + 0.3 is 0.6000000000000001 left to right
        #expect(ExactSum([1e100, 1, -1e100]).value == 1)
        let moments = ExactSum.moments([1, 0, 0.8])
        #expect(abs((ExactSum.sampleVariance(n: 3, sum: moments.sum, squares: moments.squares) ?? 0).squareRoot() - 0.5291502622129182) < 1e-15)
    }

    @Test func sketchQuantilesAreWithinTheRelativeBound() {
        var rng = SeededGenerator(seed: 9)
        let values = (0..<5000).map { _ in pow(10, Double.random(in: -2...6, using: &rng)) }
        let d = ValueDistribution(values, exactLimit: 10)
        #expect(!d.isExact)
        let sorted = values.sorted()
        let qs = [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]
        for (q, estimate) in zip(qs, d.quantiles(qs)) {
            let exact = SampleStatistics.quantile(sorted: sorted, q) ?? 0
            #expect(abs((estimate ?? 0) - exact) <= ValueDistribution.relativeAccuracy * exact * (1 + 1e-9), "q \(q)")
        }
        #expect(d.quantiles([0, 1]) == [sorted.first, sorted.last])  // the extremes are kept exactly
        let exact = ValueDistribution([3, 1, 2, 2], exactLimit: 10)
        #expect(exact.quantiles([0.5]) == [2] && exact.values() == [1, 2, 2, 3])
    }
}

@Suite struct PartialRecordErrorTests {
    func onePartial() throws -> JSONObject {
        let s = settings(period: 60, by: ["model"])
        return try #require(try partials([traffic(1), traffic(2, score: 0), traffic(3, latency: 250)], s, exactLimit: 2048).first)
    }

    func expectError(_ record: JSONObject, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let merger = WindowMerger()
        do {
            try merger.add(record)
            Issue.record("no error for \(record)", sourceLocation: sourceLocation)
        } catch let error as RecordError {
            #expect(error.message.contains(message), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func malformedPartialsNameTheField() throws {
        let good = try onePartial()
        #expect(good["partial_version"] == 1)
        expectError(try windows([traffic(1)], settings()).first!, "no field 'partial_version'")
        var r = good
        r["partial_version"] = 2
        expectError(r, "field 'partial_version' is 2, but this score-window reads version 1")
        r = good
        r["count"] = "three"
        expectError(r, "field 'count' must be a non-negative integer")
        r = good
        _ = r.removeValue(forKey: "latency")
        expectError(r, "field 'latency' is missing")
        r = good
        r["metrics"] = ["banking": ["passes": 1, "errors": 0, "not_judged": 0, "sum": [1.5, "x"], "sum_squares": [], "scores": ["n": 0]]]
        expectError(r, "field 'metrics.banking.sum' must be an array of finite numbers")
        r = good
        r["latency"] = ["ttft_ms": ["sum": [], "values": ["n": 0]], "tpot_ms": ["sum": [], "values": ["n": 0]],
                        "latency_ms": ["sum": [100], "values": ["n": 2, "min": 100, "max": 100, "values": [[100, 1]]]]]
        expectError(r, "field 'latency.latency_ms.values.n' is 2 but the values count 1")
        r = good
        r["relative_accuracy"] = 0.05
        expectError(r, "field 'relative_accuracy' is 0.05")
        r = good
        r["window"] = 1.5
        expectError(r, "field 'window' must be an integer")
        let merger = WindowMerger()
        try merger.add(good)
        r = good
        r["period"] = 120
        r["slide"] = 120
        #expect(throws: RecordError.self) { try merger.add(r) }
    }
}
