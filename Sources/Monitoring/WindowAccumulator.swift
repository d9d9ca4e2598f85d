import Records

/// The values of one window for one group, kept until the window closes. Samples are kept whole
/// (not sketched) because percentiles and drift statistics need them and a window holds minutes of
/// traffic, not days.
public final class WindowAccumulator {
    public struct Metric {
        public var scores: [Double] = []
        public var passes = 0
        public var failures = 0
        public var notJudged = 0
    }

    public private(set) var count = 0
    /// Requests the server refused (`"type": "rejected"`), not in `count`.
    public private(set) var rejected = 0
    public private(set) var metrics: [String: Metric] = [:]
    public private(set) var latencies: [[Double]] = [[], [], []]
    /// Exact sums (`ExactSum`), so that a sum does not depend on the order of the records.
    public private(set) var tokenSums: [ExactSum] = [ExactSum(), ExactSum()]
    public private(set) var tokenCounts: [Int] = [0, 0]
    public private(set) var answerLengths: [Double] = []

    public init() {}

    /// Adds a record; `passThreshold` decides pass/fail for a metric whose judge gave no `pass`.
    public func add(_ features: TrafficFeatures, passThreshold: (String) -> Double) {
        if features.isRejected {
            rejected += 1
            return
        }
        if !features.isFeedback { count += 1 }
        for (name, outcome) in features.judgements {
            var metric = metrics[name] ?? Metric()
            switch outcome {
            case let .scored(score, passed):
                metric.scores.append(score)
                if passed ?? (score >= passThreshold(name)) { metric.passes += 1 }
            case .failed:
                metric.failures += 1
            case .notJudged:
                metric.notJudged += 1
            }
            metrics[name] = metric
        }
        for i in 0..<3 { if let v = features.latencies[i] { latencies[i].append(v) } }
        for i in 0..<2 {
            if let v = features.tokens[i] {
                tokenSums[i].add(v)
                tokenCounts[i] += 1
            }
        }
        if let length = features.answerLength { answerLengths.append(length) }
    }

    /// The samples drift is measured on: `latency_ms`, `answer_chars` and `score.<metric>`.
    public var driftSamples: [String: [Double]] {
        var samples: [String: [Double]] = ["latency_ms": latencies[2], "answer_chars": answerLengths]
        for (name, metric) in metrics { samples["score.\(name)"] = metric.scores }
        return samples
    }

    /// The `metrics` member: `{name: {"n", "mean", "std", "pass_rate", "error_rate", "errors", "not_judged"}}`.
    func metricsObject() -> JSONObject {
        WindowFigures.perMetric(metrics) { m in
            let moments = ExactSum.moments(m.scores)
            return WindowFigures.metric(n: m.scores.count, passes: m.passes, failures: m.failures, notJudged: m.notJudged,
                                        sum: moments.sum, squares: moments.squares)
        }
    }

    /// The `latency` member: `{field: {"n", "mean", "p50", "p90", "p99"}}`.
    func latencyObject() -> JSONObject {
        WindowFigures.perField(TrafficFeatures.latencyFields) { i in
            let sorted = latencies[i].sorted()
            return WindowFigures.latency(n: sorted.count, sum: ExactSum(sorted),
                                         quantiles: WindowFigures.percentiles.map { SampleStatistics.quantile(sorted: sorted, $0) })
        }
    }

    /// The `tokens` member: `{field: {"n", "sum", "mean"}}`.
    func tokensObject() -> JSONObject {
        WindowFigures.perField(TrafficFeatures.tokenFields) { WindowFigures.tokens(n: tokenCounts[$0], sum: tokenSums[$0]) }
    }

    /// The `answer_chars` member: `{"n", "mean"}`.
    func answerCharsObject() -> JSONValue {
        WindowFigures.answerChars(n: answerLengths.count, sum: ExactSum(answerLengths))
    }
}

/// The statistics of a window record's members, from exact sums and quantiles, shared by windows
/// made from raw values and windows merged from partials so that both give the same numbers.
enum WindowFigures {
    static let percentiles = [0.5, 0.9, 0.99]

    /// `{name: figure}` for each metric, in name order.
    static func perMetric<Metric>(_ metrics: [String: Metric], _ figure: (Metric) -> JSONValue) -> JSONObject {
        var out = JSONObject()
        for name in metrics.keys.sorted() {
            if let m = metrics[name] { out[name] = figure(m) }
        }
        return out
    }

    /// `{field: figure(index)}` for each field, in order.
    static func perField(_ fields: [String], _ figure: (Int) -> JSONValue) -> JSONObject {
        var out = JSONObject()
        for (i, field) in fields.enumerated() { out[field] = figure(i) }
        return out
    }

    static func metric(n: Int, passes: Int, failures: Int, notJudged: Int, sum: ExactSum, squares: ExactSum) -> JSONValue {
        let attempted = n + failures
        return [
            "n": JSONValue(n),
            "mean": JSONValue(ExactSum.mean(sum, n)),
            "std": JSONValue(ExactSum.sampleVariance(n: n, sum: sum, squares: squares)?.squareRoot()),
            "pass_rate": JSONValue(n > 0 ? Double(passes) / Double(n) : nil),
            "error_rate": JSONValue(attempted > 0 ? Double(failures) / Double(attempted) : nil),
            "errors": JSONValue(failures),
            "not_judged": JSONValue(notJudged),
        ]
    }

    static func latency(n: Int, sum: ExactSum, quantiles: [Double?]) -> JSONValue {
        [
            "n": JSONValue(n),
            "mean": JSONValue(ExactSum.mean(sum, n)),
            "p50": JSONValue(quantiles[0]),
            "p90": JSONValue(quantiles[1]),
            "p99": JSONValue(quantiles[2]),
        ]
    }

    static func tokens(n: Int, sum: ExactSum) -> JSONValue {
        let total = sum.value
        return [
            "n": JSONValue(n),
            "sum": Int64(exactly: total).map(JSONValue.int) ?? JSONValue(total),
            "mean": JSONValue(ExactSum.mean(sum, n)),
        ]
    }

    static func answerChars(n: Int, sum: ExactSum) -> JSONValue {
        ["n": JSONValue(n), "mean": JSONValue(ExactSum.mean(sum, n))]
    }
}
