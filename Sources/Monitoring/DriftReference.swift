import Records

/// The reference samples drift is measured against, per group and feature: either loaded from a
/// traffic file (a group missing from it falls back to the whole file), or learnt from each group's
/// first N non-empty windows.
public final class DriftReference {
    private var byGroup: [[JSONValue]: [String: [Double]]] = [:]
    private var pooled: [String: [Double]] = [:]
    private var windowsLearnt: [[JSONValue]: Int] = [:]
    /// Set when learning from first windows.
    public let learningWindows: Int?

    /// A reference built from the first `windows` windows of each group.
    public init(firstWindows windows: Int) {
        learningWindows = windows
    }

    /// A reference read from a JSONL file of traffic (or judged traffic) records; a line or record
    /// that cannot be used is skipped and passed to `warn` with its location.
    public init(path: String, groupBy: [String], warn: (String, RecordLocation) -> Void) throws {
        learningWindows = nil
        var used = 0
        for item in JSONLReader(paths: [path]) {
            switch item {
            case let .unreadable(source, reason):
                throw FatalError("reference \(source): \(reason)")
            case let .malformed(_, reason, location):
                warn("reference: skipped line: \(reason)", location)
            case let .record(record, location):
                do {
                    let features = try TrafficFeatures(record: record)
                    let accumulator = WindowAccumulator()
                    accumulator.add(features) { _ in 0.5 }
                    let key = groupBy.map { record[$0] ?? .null }
                    for (feature, values) in accumulator.driftSamples where !values.isEmpty {
                        byGroup[key, default: [:]][feature, default: []].append(contentsOf: values)
                        pooled[feature, default: []].append(contentsOf: values)
                    }
                    used += 1
                } catch {
                    warn("reference: skipped record: \(error)", location)
                }
            }
        }
        guard used > 0 else { throw FatalError("reference \(path): no usable records") }
    }

    /// The reference samples for a group, or nil while they are still being learnt.
    public func samples(for group: [JSONValue]) -> [String: [Double]]? {
        if let learningWindows {
            guard (windowsLearnt[group] ?? 0) >= learningWindows else { return nil }
            return byGroup[group] ?? [:]
        }
        return byGroup[group] ?? pooled
    }

    /// Offers a closed window to the reference; returns true when the window became part of it.
    public func learn(group: [JSONValue], window: WindowAccumulator) -> Bool {
        learn(group: group, samples: window.driftSamples, hasData: window.count > 0 || !window.metrics.isEmpty)
    }

    /// Offers a closed window's drift samples (`hasData`: it had records or judge metrics).
    public func learn(group: [JSONValue], samples: [String: [Double]], hasData: Bool) -> Bool {
        guard let learningWindows, hasData else { return false }
        let learnt = windowsLearnt[group] ?? 0
        guard learnt < learningWindows else { return false }
        windowsLearnt[group] = learnt + 1
        for (feature, values) in samples {
            byGroup[group, default: [:]][feature, default: []].append(contentsOf: values)
        }
        return true
    }

    /// Progress of learning for a group, for the window record.
    public func windowsLearnt(for group: [JSONValue]) -> Int { windowsLearnt[group] ?? 0 }
}
