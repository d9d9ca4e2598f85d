import Foundation
import Records

/// Event-time windows over a stream of judged or raw traffic records.
///
/// Windows lie on a grid anchored at an origin (`WindowOrigin`: the Unix epoch by default, or the
/// first record's time, or a given instant): window k covers [origin + k·slide, origin + k·slide +
/// period). Tumbling
/// windows have slide = period; sliding windows (`--every`) overlap, so a record counts in each
/// window that covers it. Event time is the records' own `ts`. The watermark is the newest `ts`
/// seen minus the allowed lateness; a window closes — and is emitted, once — when the watermark
/// reaches its end, so a live stream yields windows as they close; at end of input every window that
/// holds data closes. A record for an already closed window is late: it is dropped and reported
/// through `onLate`. Between the first and last window of a group, windows without records are
/// still emitted, with `count` 0 and empty statistics, so a drop in traffic is visible (up to
/// `maxEmptyRun` in a row; a longer silence is skipped).
///
/// The window record (stable: drift-alert and dashboards read it):
/// ```
/// {"window_start": RFC 3339, "window_end": RFC 3339, "group": {field: value, ...},
///  "count": traffic records, "rps": count / period seconds,
///  "rejected": requests the server refused (4xx/5xx), "rejected_rate": rejected / (count + rejected),
///  "metrics": {name: {"n", "mean", "std", "pass_rate", "error_rate", "errors", "not_judged"}},
///  "latency": {"ttft_ms"|"tpot_ms"|"latency_ms": {"n", "mean", "p50", "p90", "p99"}},
///  "tokens": {"prompt_tokens"|"completion_tokens": {"n", "sum", "mean"}},
///  "answer_chars": {"n", "mean"},
///  "drift": {feature: {...}}}            (only with a reference; see DriftSettings.evaluate)
/// ```
/// Statistics without data are `null`. `std` is the sample standard deviation; percentiles
/// interpolate linearly (numpy's default); means and standard deviations come from exact sums
/// (`ExactSum`), so they do not depend on the order of the records.
///
/// In partial mode (`--partial`) a closing window is written as a partial record instead
/// (`partialRecord`): its mergeable state (`WindowState`) for `WindowMerger` to combine with the
/// other partitions' parts. Only windows with records are written (the merger fills the gaps), and
/// no record is late: a record for a window already written goes into another part of it.
public final class ScoreWindow {
    public let settings: ScoreWindowSettings
    public let reference: DriftReference?
    /// Whether closed windows are written as partial records.
    public let partial: Bool
    /// Distinct values a partial record's distributions keep exactly (`ValueDistribution`).
    public let exactLimit: Int
    /// Called for each record that arrives after its windows closed, with its lateness in seconds.
    public var onLate: ((Double) -> Void)?

    private typealias GroupKey = [JSONValue]
    private var windows: [Int64: [GroupKey: WindowAccumulator]] = [:]
    private var groups: [GroupKey] = []
    private var groupFirstWindow: [GroupKey: Int64] = [:]
    private var nextToClose: Int64? = nil
    private var newestTime = -Double.infinity
    private var highestWindow: Int64 = .min
    private var cached: (index: Int64, key: GroupKey, accumulator: WindowAccumulator)? = nil
    /// The origin in seconds since the epoch; for `.start`, set by the first record.
    private var origin: Double?

    /// Longest run of empty windows written between two windows with data; longer gaps are skipped.
    public static let maxEmptyRun: Int64 = 1000

    public init(settings: ScoreWindowSettings, reference: DriftReference? = nil, partial: Bool = false,
                exactLimit: Int = ValueDistribution.defaultExactLimit) throws {
        try settings.validate()
        if partial {
            guard settings.origin != .start else {
                throw FatalError("--partial needs a grid of windows every partition shares: use --origin epoch (the default) or an RFC 3339 instant, not start (each partition would start at its own first record)")
            }
            guard reference == nil else {
                throw FatalError("--partial writes no drift statistics: give the reference to score-window --merge")
            }
        }
        self.settings = settings
        self.reference = reference
        self.partial = partial
        self.exactLimit = exactLimit
        switch settings.origin {
        case .epoch: origin = 0
        case .start: origin = nil
        case let .instant(seconds): origin = seconds
        }
    }

    /// Adds a record; returns the windows that closed because of it, oldest first.
    /// Throws `RecordError` for a record that cannot be used (no `ts`, a field of the wrong type).
    public func add(_ record: JSONObject) throws -> [JSONObject] {
        let features = try TrafficFeatures(record: record)
        let key = settings.by.map { record[$0] ?? .null }
        let slide = settings.slide
        if origin == nil { origin = features.time }
        // Time relative to the origin: window k covers [k·slide, k·slide + period) of it.
        let time = features.time - (origin ?? 0)
        var last = Int64((time / slide).rounded(.down))
        var first = settings.every == nil ? last : Int64(((time - settings.period) / slide).rounded(.down)) + 1
        // Guard against rounding at exact window borders.
        while Double(first) * slide + settings.period <= time { first += 1 }
        while Double(last) * slide > time { last -= 1 }
        if !partial, let next = nextToClose, first < next { first = next }
        if first > last {
            onLate?(max(0, newestTime - settings.lateness - features.time))
            return []
        }
        if groupFirstWindow[key] == nil {
            groups.append(key)
            groupFirstWindow[key] = first
        } else if let known = groupFirstWindow[key], first < known {
            groupFirstWindow[key] = first
        }
        let threshold = passThreshold
        for index in first...last {
            accumulator(index: index, key: key).add(features, passThreshold: threshold)
        }
        highestWindow = max(highestWindow, last)
        newestTime = max(newestTime, features.time)
        let watermark = newestTime - settings.lateness - (origin ?? 0)
        return partial ? closePartials(upTo: watermark) : close(upTo: watermark)
    }

    /// Closes every window that holds data (end of input); returns them oldest first.
    public func finish() -> [JSONObject] {
        partial ? closePartials(upTo: .infinity) : close(upTo: .infinity)
    }

    private func passThreshold(_ metric: String) -> Double {
        settings.passThresholds[metric] ?? settings.passThreshold
    }

    private func accumulator(index: Int64, key: GroupKey) -> WindowAccumulator {
        if let cached, cached.index == index, cached.key == key { return cached.accumulator }
        let acc: WindowAccumulator
        if let existing = windows[index]?[key] {
            acc = existing
        } else {
            acc = WindowAccumulator()
            windows[index, default: [:]][key] = acc
        }
        cached = (index, key, acc)
        return acc
    }

    /// Partial mode: writes the windows with records that end at or before `watermark` as partial
    /// records, oldest first, groups in the order they first appeared.
    private func closePartials(upTo watermark: Double) -> [JSONObject] {
        guard let lowest = windows.keys.min(), Double(lowest) * settings.slide + settings.period <= watermark else { return [] }
        var out: [JSONObject] = []
        for index in windows.keys.sorted() where Double(index) * settings.slide + settings.period <= watermark {
            let open = windows.removeValue(forKey: index) ?? [:]
            if cached?.index == index { cached = nil }
            for key in groups {
                guard let acc = open[key] else { continue }
                out.append(partialRecord(index: index, key: key, state: WindowState(acc, exactLimit: exactLimit)))
            }
        }
        return out
    }

    private func partialRecord(index: Int64, key: GroupKey, state: WindowState) -> JSONObject {
        var group = JSONObject()
        for (field, value) in zip(settings.by, key) { group[field] = value }
        return Self.partialRecord(period: settings.period, slide: settings.slide, origin: origin ?? 0, index: index, group: group, state: state)
    }

    /// `{"partial_version", "window_start", "window_end", "group", "period", "slide", "origin",
    /// "window"}` (the grid: seconds, seconds, seconds since the epoch, the window's index on it)
    /// followed by the state's members (`WindowState.partialMembers`).
    static func partialRecord(period: Double, slide: Double, origin: Double, index: Int64, group: JSONObject, state: WindowState) -> JSONObject {
        let start = origin + Double(index) * slide
        var record: JSONObject = [
            "partial_version": JSONValue(WindowState.partialVersion),
            "window_start": .string(Timestamp(secondsSinceEpoch: start).rfc3339),
            "window_end": .string(Timestamp(secondsSinceEpoch: start + period).rfc3339),
            "group": .object(group),
            "period": JSONValue(period),
            "slide": JSONValue(slide),
            "origin": JSONValue(origin),
            "window": .int(index),
        ]
        for (name, value) in state.partialMembers() { record[name] = value }
        return record
    }

    /// Closes the windows that end at or before `watermark` (seconds after the origin).
    private func close(upTo watermark: Double) -> [JSONObject] {
        guard !windows.isEmpty || nextToClose != nil else { return [] }
        var index: Int64
        if let next = nextToClose {
            index = next
        } else if let lowest = windows.keys.min() {
            index = lowest
        } else {
            return []
        }
        var out: [JSONObject] = []
        while index <= highestWindow && Double(index) * settings.slide + settings.period <= watermark {
            if windows[index] == nil, let nextData = windows.keys.filter({ $0 > index }).min(),
               nextData - index > Self.maxEmptyRun {
                // A long silence (or a stray timestamp far away): skip it rather than write
                // thousands of empty windows.
                index = nextData
                nextToClose = index
                continue
            }
            let open = windows.removeValue(forKey: index) ?? [:]
            if cached?.index == index { cached = nil }
            for key in groups where (groupFirstWindow[key] ?? .max) <= index {
                out.append(windowRecord(index: index, key: key, accumulator: open[key] ?? WindowAccumulator()))
            }
            index += 1
            nextToClose = index
        }
        return out
    }

    private func windowRecord(index: Int64, key: GroupKey, accumulator acc: WindowAccumulator) -> JSONObject {
        let start = (origin ?? 0) + Double(index) * settings.slide
        var group = JSONObject()
        for (field, value) in zip(settings.by, key) { group[field] = value }
        var record = Self.windowRecord(start: start, period: settings.period, group: group, count: acc.count, rejected: acc.rejected,
                                       metrics: acc.metricsObject(), latency: acc.latencyObject(), tokens: acc.tokensObject(),
                                       answerChars: acc.answerCharsObject())
        if let reference {
            record["drift"] = .object(Self.driftObject(key: key, current: acc.driftSamples, hasData: acc.count > 0 || !acc.metrics.isEmpty,
                                                       reference: reference, settings: settings.drift))
        }
        return record
    }

    /// A finished window record without its drift member; `WindowMerger` writes the same.
    static func windowRecord(start: Double, period: Double, group: JSONObject, count: Int, rejected: Int, metrics: JSONObject,
                             latency: JSONObject, tokens: JSONObject, answerChars: JSONValue) -> JSONObject {
        [
            "window_start": .string(Timestamp(secondsSinceEpoch: start).rfc3339),
            "window_end": .string(Timestamp(secondsSinceEpoch: start + period).rfc3339),
            "group": .object(group),
            "count": JSONValue(count),
            "rps": JSONValue(Double(count) / period),
            "rejected": JSONValue(rejected),
            "rejected_rate": count + rejected > 0 ? JSONValue(Double(rejected) / Double(count + rejected)) : .null,
            "metrics": .object(metrics),
            "latency": .object(latency),
            "tokens": .object(tokens),
            "answer_chars": answerChars,
        ]
    }

    /// The `drift` member of a window of group `key` whose drift samples are `current`; a window
    /// with data is offered to a reference that learns from first windows.
    static func driftObject(key: [JSONValue], current: [String: [Double]], hasData: Bool, reference: DriftReference,
                            settings: DriftSettings) -> JSONObject {
        var out = JSONObject()
        guard let referenceSamples = reference.samples(for: key) else {
            let learnt = reference.learn(group: key, samples: current, hasData: hasData)
            for feature in current.keys.sorted() {
                out[feature] = ["n": JSONValue(current[feature]?.count ?? 0),
                                "status": learnt ? "reference" : "no_reference",
                                "reference_windows": JSONValue(reference.windowsLearnt(for: key))]
            }
            return out
        }
        for feature in Set(current.keys).union(referenceSamples.keys).sorted() {
            out[feature] = .object(settings.evaluate(reference: referenceSamples[feature] ?? [], current: current[feature] ?? []))
        }
        return out
    }
}
