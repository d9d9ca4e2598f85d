import Records

/// Evaluates alert rules over window records (score-window's output) and produces event records.
///
/// Time is the windows' own `window_end`, so a replay of old windows fires exactly as the live stream
/// did. Each rule keeps a state per window group (`group` of the window record). Event record:
/// ```
/// {"event": "detected"|"suspected"|"resolved", "rule", "severity", "metric", "value", "threshold",
///  "comparison", "window_start", "window_end", "group", "bad_windows", "count", "period_s",
///  "reason", "statistic" (detector rules)}
/// ```
public final class AlertEngine {
    public let rules: [AlertRule]
    public private(set) var state: AlertStateFile

    public init(rules: [AlertRule], state: AlertStateFile = AlertStateFile()) throws {
        var names = Set<String>()
        for rule in rules {
            try rule.validate()
            guard names.insert(rule.name).inserted else { throw FatalError("two rules are named '\(rule.name)'") }
        }
        self.rules = rules
        self.state = state
    }

    /// True when some rule has a detected alert for some group.
    public var anyDetected: Bool {
        state.rules.values.contains { $0.values.contains { $0.status == .detected } }
    }

    /// Evaluates every rule on one window record; returns the events it causes.
    /// Throws `RecordError` when the record is not a window record.
    public func process(window: JSONObject) throws -> [JSONObject] {
        guard let endText = window["window_end"]?.string else {
            if let upstream = window["error"]?.string { throw RecordError("upstream error record: \(upstream)") }
            throw RecordError("not a window record: missing 'window_end'")
        }
        let end: Double
        do { end = try Timestamp(rfc3339: endText).secondsSinceEpoch } catch { throw RecordError("field 'window_end': \(error)") }
        let group = window["group"] ?? .object(JSONObject())
        let groupKey = group.description
        var events: [JSONObject] = []
        for rule in rules {
            // Numbers are judged as they are, booleans (drift.<feature>.drift_detected) as 1 and 0;
            // a missing or null value is a window without data for this rule and changes nothing.
            guard let raw = window.value(atPath: rule.metric), let value = raw.double ?? raw.bool.map({ $0 ? 1 : 0 }) else { continue }
            var s = state.rules[rule.name]?[groupKey] ?? AlertGroupState(group: group)
            if let event = evaluate(rule: rule, value: value, end: end, window: window, state: &s) {
                events.append(event)
            }
            state.rules[rule.name, default: [:]][groupKey] = s
        }
        return events
    }

    private func evaluate(rule: AlertRule, value metricValue: Double, end: Double, window: JSONObject,
                          state s: inout AlertGroupState) -> JSONObject? {
        var value = metricValue
        if let detector = rule.detector {
            guard let statistic = s.detector.update(metricValue, settings: detector) else { return nil }
            value = statistic
        }
        let bad = rule.comparison.isBad(value, rule.threshold)
        if let period = rule.period {
            s.badWindows.removeAll { $0 <= end - period }
            if bad { s.badWindows.append(end) }
        }
        s.consecutiveBad = bad ? s.consecutiveBad + 1 : 0
        let badCount = rule.period == nil ? s.consecutiveBad : s.badWindows.count
        let criteriaMet = badCount >= rule.count
        let suspect = rule.suspectThreshold.map { rule.comparison.isBad(value, $0) } ?? false
        let coolingDown = s.lastFired.map { end - $0 < rule.cooldown } ?? false

        func event(_ kind: String, threshold: Double, reason: String) -> JSONObject {
            var e: JSONObject = [
                "event": .string(kind), "rule": .string(rule.name), "severity": .string(rule.severity),
                "metric": .string(rule.metric), "value": JSONValue(value), "threshold": JSONValue(threshold),
                "comparison": .string(rule.comparison.rawValue),
                "window_start": window["window_start"] ?? .null, "window_end": window["window_end"] ?? .null,
                "group": s.group, "bad_windows": JSONValue(badCount), "count": JSONValue(rule.count),
                "period_s": JSONValue(rule.period), "reason": .string(reason),
            ]
            if let detector = rule.detector {
                e["statistic"] = .string(detector.type.rawValue)
                e["metric_value"] = JSONValue(metricValue)
            }
            return e
        }
        func transition(to status: AlertGroupState.Status, fired: Bool) {
            s.status = status
            s.since = end
            if fired {
                s.lastFired = end
                s.severity = rule.severity
                s.metric = rule.metric
            }
        }

        switch s.status {
        case .inactive, .suspected:
            if criteriaMet && !coolingDown {
                transition(to: .detected, fired: true)
                return event("detected", threshold: rule.threshold,
                             reason: "\(badCount) bad window(s), \(rule.count) needed" + (rule.period.map { " within \(Int($0))s" } ?? ""))
            }
            if s.status == .inactive && suspect && !coolingDown, let soft = rule.suspectThreshold {
                transition(to: .suspected, fired: true)
                return event("suspected", threshold: soft, reason: "value past the suspect threshold")
            }
            if s.status == .suspected && !suspect && !bad {
                transition(to: .inactive, fired: false)
                return event("resolved", threshold: rule.suspectThreshold ?? rule.threshold, reason: "suspected condition cleared")
            }
        case .detected:
            if rule.reset == .auto && !rule.comparison.isBad(value, rule.effectiveClearThreshold) && !bad {
                transition(to: .inactive, fired: false)
                s.badWindows.removeAll()
                s.consecutiveBad = 0
                return event("resolved", threshold: rule.effectiveClearThreshold, reason: "value back past the clear threshold")
            }
        }
        return nil
    }

    /// Ends every alert of the rule named `name` (manual reset); returns the resolved events.
    /// Throws when no rule of that name has state.
    public func reset(rule name: String, at time: Double) throws -> [JSONObject] {
        guard let groups = state.rules[name] else {
            let known = state.rules.keys.sorted().joined(separator: ", ")
            throw FatalError("no alert state for rule '\(name)'" + (known.isEmpty ? "" : " (known: \(known))"))
        }
        let rule = rules.first { $0.name == name }
        var events: [JSONObject] = []
        for key in groups.keys.sorted() {
            guard var s = groups[key] else { continue }
            if s.status != .inactive {
                events.append([
                    "event": "resolved", "rule": .string(name),
                    "severity": (rule?.severity ?? s.severity).map(JSONValue.string) ?? .null,
                    "metric": (rule?.metric ?? s.metric).map(JSONValue.string) ?? .null, "group": s.group,
                    "previous": .string(s.status.rawValue), "reason": "manual reset",
                    "ts": .string(Timestamp(secondsSinceEpoch: time).rfc3339),
                ])
            }
            s.status = .inactive
            s.since = time
            s.badWindows.removeAll()
            s.consecutiveBad = 0
            s.detector = ChangeDetectorState()
            state.rules[name]?[key] = s
        }
        return events
    }
}
