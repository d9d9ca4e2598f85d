import Records

/// The mergeable state of one window of one group: what `score-window --partial` writes and
/// `--merge` adds up (docs/windows.md). Counts and exact sums merge exactly; each field's values
/// merge as a `ValueDistribution`. Merging is commutative and associative: the merged state depends
/// only on the records, not on how they were split or in which order the parts are merged.
public struct WindowState: Equatable, Sendable {
    public struct Metric: Equatable, Sendable {
        public var passes = 0
        public var failures = 0
        public var notJudged = 0
        public var sum = ExactSum()
        public var squares = ExactSum()
        public var scores: ValueDistribution

        init(exactLimit: Int) { scores = ValueDistribution(exactLimit: exactLimit) }

        mutating func merge(_ other: Metric) {
            passes += other.passes
            failures += other.failures
            notJudged += other.notJudged
            sum.add(other.sum)
            squares.add(other.squares)
            scores.merge(other.scores)
        }
    }

    /// A numeric field: its exact sum and its values.
    public struct Field: Equatable, Sendable {
        public var sum = ExactSum()
        public var values: ValueDistribution

        init(exactLimit: Int) { values = ValueDistribution(exactLimit: exactLimit) }

        init(_ samples: [Double], exactLimit: Int) {
            sum = ExactSum(samples)
            values = ValueDistribution(samples, exactLimit: exactLimit)
        }

        mutating func merge(_ other: Field) {
            sum.add(other.sum)
            values.merge(other.values)
        }
    }

    public var count = 0
    /// Refused requests (`"type": "rejected"`), not in `count`.
    public var rejected = 0
    public var metrics: [String: Metric] = [:]
    /// ttft_ms, tpot_ms, latency_ms.
    public var latencies: [Field]
    /// prompt_tokens, completion_tokens: how many records had one, and their sum.
    public var tokenCounts = [0, 0]
    public var tokenSums = [ExactSum(), ExactSum()]
    public var answerChars: Field
    public private(set) var exactLimit: Int

    public init(exactLimit: Int = ValueDistribution.defaultExactLimit) {
        self.exactLimit = exactLimit
        latencies = Array(repeating: Field(exactLimit: exactLimit), count: 3)
        answerChars = Field(exactLimit: exactLimit)
    }

    /// The state of an accumulated window.
    public init(_ acc: WindowAccumulator, exactLimit: Int = ValueDistribution.defaultExactLimit) {
        self.init(exactLimit: exactLimit)
        count = acc.count
        rejected = acc.rejected
        for (name, m) in acc.metrics {
            var metric = Metric(exactLimit: exactLimit)
            metric.passes = m.passes
            metric.failures = m.failures
            metric.notJudged = m.notJudged
            (metric.sum, metric.squares) = ExactSum.moments(m.scores)
            metric.scores = ValueDistribution(m.scores, exactLimit: exactLimit)
            metrics[name] = metric
        }
        latencies = acc.latencies.map { Field($0, exactLimit: exactLimit) }
        tokenCounts = acc.tokenCounts
        tokenSums = acc.tokenSums
        answerChars = Field(acc.answerLengths, exactLimit: exactLimit)
    }

    /// Adds another part of the same window and group.
    public mutating func merge(_ other: WindowState) {
        count += other.count
        rejected += other.rejected
        exactLimit = min(exactLimit, other.exactLimit)
        for (name, metric) in other.metrics {
            if metrics[name] == nil {
                metrics[name] = metric
            } else {
                metrics[name]!.merge(metric)
            }
        }
        for i in 0..<3 { latencies[i].merge(other.latencies[i]) }
        for i in 0..<2 {
            tokenCounts[i] += other.tokenCounts[i]
            tokenSums[i].add(other.tokenSums[i])
        }
        answerChars.merge(other.answerChars)
    }

    /// Whether the window has anything a drift reference can learn from.
    var hasData: Bool { count > 0 || rejected > 0 || !metrics.isEmpty }

    // MARK: The finished window's members, as WindowAccumulator gives them.

    func metricsObject() -> JSONObject {
        WindowFigures.perMetric(metrics) { m in
            WindowFigures.metric(n: m.scores.count, passes: m.passes, failures: m.failures, notJudged: m.notJudged, sum: m.sum, squares: m.squares)
        }
    }

    func latencyObject() -> JSONObject {
        WindowFigures.perField(TrafficFeatures.latencyFields) { i in
            WindowFigures.latency(n: latencies[i].values.count, sum: latencies[i].sum,
                                  quantiles: latencies[i].values.quantiles(WindowFigures.percentiles))
        }
    }

    func tokensObject() -> JSONObject {
        WindowFigures.perField(TrafficFeatures.tokenFields) { WindowFigures.tokens(n: tokenCounts[$0], sum: tokenSums[$0]) }
    }

    func answerCharsObject() -> JSONValue {
        WindowFigures.answerChars(n: answerChars.values.count, sum: answerChars.sum)
    }

    /// The samples drift is measured on, as `WindowAccumulator.driftSamples` (sorted; bucket values
    /// where a field's distribution is a sketch).
    var driftSamples: [String: [Double]] {
        var samples: [String: [Double]] = ["latency_ms": latencies[2].values.values(), "answer_chars": answerChars.values.values()]
        for (name, metric) in metrics { samples["score.\(name)"] = metric.scores.values() }
        return samples
    }
}

// MARK: - The partial record

extension WindowState {
    /// The version of the partial record's layout; `--merge` refuses any other.
    public static let partialVersion = 1

    /// The state as the members of a partial record (the caller adds the window and group):
    /// `{"count", "rejected", "exact_limit", "relative_accuracy", "metrics": {name: {"passes", "errors",
    /// "not_judged", "sum", "sum_squares", "scores"}}, "latency": {field: {"sum", "values"}},
    /// "tokens": {field: {"n", "sum"}}, "answer_chars": {"sum", "values"}}`; a sum is its array of
    /// components, a distribution `{"n", "min", "max", "values": [[value, count], ...]}` while exact,
    /// else `{"n", "min", "max", "zeros", "positive": [[bucket, count], ...], "negative": [...]}`.
    func partialMembers() -> [(String, JSONValue)] {
        var metricsOut = JSONObject()
        for name in metrics.keys.sorted() {
            guard let m = metrics[name] else { continue }
            metricsOut[name] = ["passes": JSONValue(m.passes), "errors": JSONValue(m.failures), "not_judged": JSONValue(m.notJudged),
                                "sum": Self.encode(m.sum), "sum_squares": Self.encode(m.squares), "scores": Self.encode(m.scores)]
        }
        var latencyOut = JSONObject()
        for (i, field) in TrafficFeatures.latencyFields.enumerated() {
            latencyOut[field] = ["sum": Self.encode(latencies[i].sum), "values": Self.encode(latencies[i].values)]
        }
        var tokensOut = JSONObject()
        for (i, field) in TrafficFeatures.tokenFields.enumerated() {
            tokensOut[field] = ["n": JSONValue(tokenCounts[i]), "sum": Self.encode(tokenSums[i])]
        }
        return [
            ("count", JSONValue(count)),
            ("rejected", JSONValue(rejected)),
            ("exact_limit", JSONValue(exactLimit)),
            ("relative_accuracy", JSONValue(ValueDistribution.relativeAccuracy)),
            ("metrics", .object(metricsOut)),
            ("latency", .object(latencyOut)),
            ("tokens", .object(tokensOut)),
            ("answer_chars", ["sum": Self.encode(answerChars.sum), "values": Self.encode(answerChars.values)]),
        ]
    }

    static func encode(_ sum: ExactSum) -> JSONValue {
        .array(sum.partials.map { JSONValue($0) })
    }

    static func encode(_ d: ValueDistribution) -> JSONValue {
        var out: JSONObject = ["n": JSONValue(d.count)]
        out["min"] = d.count > 0 ? JSONValue(d.minimum) : .null
        out["max"] = d.count > 0 ? JSONValue(d.maximum) : .null
        if let exact = d.exact {
            out["values"] = .array(exact.sorted { $0.key < $1.key }.map { [JSONValue($0.key), JSONValue($0.value)] })
        } else {
            out["zeros"] = JSONValue(d.zeros)
            out["positive"] = .array(d.positive.sorted { $0.key < $1.key }.map { [JSONValue($0.key), JSONValue($0.value)] })
            out["negative"] = .array(d.negative.sorted { $0.key < $1.key }.map { [JSONValue($0.key), JSONValue($0.value)] })
        }
        return .object(out)
    }

    /// Reads the state from a partial record; errors name the field.
    init(partial record: JSONObject) throws {
        let reader = PartialReader()
        let limit = try reader.count(record, "exact_limit", "")
        guard limit >= 1 else { throw reader.error("exact_limit", "must be at least 1") }
        let accuracy = try reader.number(record, "relative_accuracy", "")
        guard accuracy == ValueDistribution.relativeAccuracy else {
            throw RecordError("partial record: field 'relative_accuracy' is \(accuracy), but this score-window merges sketches of relative accuracy \(ValueDistribution.relativeAccuracy)")
        }
        self.init(exactLimit: limit)
        count = try reader.count(record, "count", "")
        // Partial records written before rejected requests were counted have no member: none.
        rejected = record["rejected"] == nil ? 0 : try reader.count(record, "rejected", "")
        for (name, value) in try reader.object(record, "metrics", "") {
            let path = "metrics.\(name)"
            guard case let .object(m) = value else { throw reader.error(path, "must be an object, found \(value.kindName)") }
            var metric = Metric(exactLimit: limit)
            metric.passes = try reader.count(m, "passes", path)
            metric.failures = try reader.count(m, "errors", path)
            metric.notJudged = try reader.count(m, "not_judged", path)
            metric.sum = try reader.sum(m, "sum", path)
            metric.squares = try reader.sum(m, "sum_squares", path)
            metric.scores = try reader.distribution(m, "scores", path, exactLimit: limit)
            guard metric.passes <= metric.scores.count else {
                throw reader.error("\(path).passes", "is \(metric.passes), more than the \(metric.scores.count) scores")
            }
            metrics[name] = metric
        }
        let latency = try reader.object(record, "latency", "")
        for (i, field) in TrafficFeatures.latencyFields.enumerated() {
            let path = "latency.\(field)"
            let f = try reader.object(latency, field, "latency")
            latencies[i].sum = try reader.sum(f, "sum", path)
            latencies[i].values = try reader.distribution(f, "values", path, exactLimit: limit)
        }
        let tokens = try reader.object(record, "tokens", "")
        for (i, field) in TrafficFeatures.tokenFields.enumerated() {
            let path = "tokens.\(field)"
            let f = try reader.object(tokens, field, "tokens")
            tokenCounts[i] = try reader.count(f, "n", path)
            tokenSums[i] = try reader.sum(f, "sum", path)
        }
        let chars = try reader.object(record, "answer_chars", "")
        answerChars.sum = try reader.sum(chars, "sum", "answer_chars")
        answerChars.values = try reader.distribution(chars, "values", "answer_chars", exactLimit: limit)
    }
}

/// Reads the members of a partial record, with errors that name the field's path.
struct PartialReader {
    func error(_ path: String, _ problem: String) -> RecordError {
        RecordError("partial record: field '\(path)' \(problem)")
    }

    private func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    private func member(_ o: JSONObject, _ key: String, _ parent: String) throws -> JSONValue {
        guard let value = o[key], !value.isNull else { throw error(join(parent, key), "is missing") }
        return value
    }

    func object(_ o: JSONObject, _ key: String, _ parent: String) throws -> JSONObject {
        let value = try member(o, key, parent)
        guard case let .object(object) = value else { throw error(join(parent, key), "must be an object, found \(value.kindName)") }
        return object
    }

    func number(_ o: JSONObject, _ key: String, _ parent: String) throws -> Double {
        let value = try member(o, key, parent)
        guard case let .number(n) = value, n.double.isFinite else {
            throw error(join(parent, key), "must be a finite number, found \(value)")
        }
        return n.double
    }

    func count(_ o: JSONObject, _ key: String, _ parent: String) throws -> Int {
        let value = try member(o, key, parent)
        guard case let .number(n) = value, let i = n.int64, i >= 0, i <= Int64(Int32.max) * 1024 else {
            throw error(join(parent, key), "must be a non-negative integer, found \(value)")
        }
        return Int(i)
    }

    func sum(_ o: JSONObject, _ key: String, _ parent: String) throws -> ExactSum {
        let path = join(parent, key)
        let value = try member(o, key, parent)
        guard case let .array(items) = value else { throw error(path, "must be an array of numbers (a sum's components), found \(value.kindName)") }
        var sum = ExactSum()
        for item in items {
            guard case let .number(n) = item, n.double.isFinite else {
                throw error(path, "must be an array of finite numbers, found \(item)")
            }
            sum.add(n.double)
        }
        return sum
    }

    /// `[[key, count], ...]` pairs.
    private func pairs(_ o: JSONObject, _ key: String, _ parent: String) throws -> [(JSONNumber, Int)] {
        let path = join(parent, key)
        let value = try member(o, key, parent)
        guard case let .array(items) = value else { throw error(path, "must be an array of [value, count] pairs, found \(value.kindName)") }
        return try items.map { (item: JSONValue) throws -> (JSONNumber, Int) in
            guard case let .array(pair) = item, pair.count == 2, case let .number(v) = pair[0], v.double.isFinite,
                  case let .number(c) = pair[1], let n = c.int64, n >= 1, n <= Int64(Int32.max) * 1024 else {
                throw error(path, "must hold [value, count] pairs of a finite number and a positive integer, found \(item)")
            }
            return (v, Int(n))
        }
    }

    func distribution(_ o: JSONObject, _ key: String, _ parent: String, exactLimit: Int) throws -> ValueDistribution {
        let path = join(parent, key)
        let d = try object(o, key, parent)
        let n = try count(d, "n", path)
        var out = ValueDistribution(exactLimit: exactLimit)
        if n == 0 { return out }
        let low = try number(d, "min", path), high = try number(d, "max", path)
        guard low <= high else { throw error("\(path).min", "is above the maximum") }
        if d["values"] != nil {
            for (v, c) in try pairs(d, "values", path) {
                guard v.double >= low && v.double <= high else { throw error("\(path).values", "holds \(v), outside min and max") }
                out.add(v.double, count: c)
            }
            guard out.count == n else { throw error("\(path).n", "is \(n) but the values count \(out.count)") }
            guard out.minimum == low && out.maximum == high else {
                throw error("\(path).min", "and max (\(low), \(high)) are not the smallest and largest values")
            }
            return out
        }
        // A sketch: rebuild it through a one-value-limit distribution so that it stays a sketch.
        let zeros = try count(d, "zeros", path)
        var sketch = ValueDistribution.sketch(minimum: low, maximum: high, exactLimit: exactLimit)
        for (i, c) in try pairs(d, "positive", path) {
            guard let index = i.int64, abs(index) < 1_000_000 else { throw error("\(path).positive", "holds bucket \(i), not an integer index") }
            sketch.addBucket(sign: 1, index: Int(index), count: c)
        }
        for (i, c) in try pairs(d, "negative", path) {
            guard let index = i.int64, abs(index) < 1_000_000 else { throw error("\(path).negative", "holds bucket \(i), not an integer index") }
            sketch.addBucket(sign: -1, index: Int(index), count: c)
        }
        sketch.addBucket(sign: 0, index: 0, count: zeros)
        guard sketch.count == n else { throw error("\(path).n", "is \(n) but the buckets count \(sketch.count)") }
        return sketch
    }
}
