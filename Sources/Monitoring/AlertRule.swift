import Records

/// Which side of a threshold is bad.
public enum Comparison: String, Codable, Sendable, CaseIterable {
    case below = "<", belowOrEqual = "<=", above = ">", aboveOrEqual = ">="

    /// True when `value` is on the bad side of `threshold`.
    public func isBad(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .below: return value < threshold
        case .belowOrEqual: return value <= threshold
        case .above: return value > threshold
        case .aboveOrEqual: return value >= threshold
        }
    }
}

/// When a detected alert ends: by itself once the metric is back past the clear threshold (`auto`),
/// or only by `drift-alert reset NAME` (`manual`), remembered across runs in the state file.
public enum ResetPolicy: String, Codable, Sendable, CaseIterable {
    case auto, manual
}

/// An alert rule over window records: a JSONL or config-file struct with explicit defaults.
///
/// `{"name": "banking", "metric": "metrics.restrict_to_banking.pass_rate", "comparison": "<",
///   "threshold": 0.8, "suspect_threshold": 0.9, "clear_threshold": 0.85, "count": 2, "period": 600,
///   "cooldown": 1800, "reset": "auto", "severity": "critical"}`
///
/// - detected: `count` windows on the bad side of `threshold` within `period` seconds (of window end
///   time; without a period, `count` consecutive windows).
/// - suspected: a window on the bad side of the softer `suspect_threshold` while not detected.
/// - resolved: an active alert ends when a window is on the good side of `clear_threshold`
///   (default: the threshold; set it beyond the threshold for hysteresis so the alert does not flap).
///   A suspected state clears when a window is back on the good side of the suspect threshold.
/// - cooldown: after an alert fires, the rule does not fire again for this many seconds.
/// - detector: optional sequential change detection; the rule then judges the detector's statistic.
public struct AlertRule: Codable, Equatable, Sendable {
    public var name: String
    public var metric: String
    public var comparison: Comparison
    public var threshold: Double
    public var suspectThreshold: Double? = nil
    public var clearThreshold: Double? = nil
    public var count: Int = 1
    public var period: Double? = nil
    public var cooldown: Double = 0
    public var reset: ResetPolicy = .auto
    public var severity: String = "warning"
    public var detector: ChangeDetectorSettings? = nil

    enum CodingKeys: String, CodingKey {
        case name, metric, comparison, threshold, suspectThreshold = "suspect_threshold", clearThreshold = "clear_threshold"
        case count, period, cooldown, reset, severity, detector
    }

    public init(name: String, metric: String, comparison: Comparison, threshold: Double) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        metric = try c.decode(String.self, forKey: .metric)
        detector = try c.decodeIfPresent(ChangeDetectorSettings.self, forKey: .detector)
        comparison = try c.decodeIfPresent(Comparison.self, forKey: .comparison) ?? (detector != nil ? .aboveOrEqual : .below)
        threshold = try c.decode(Double.self, forKey: .threshold)
        suspectThreshold = try c.decodeIfPresent(Double.self, forKey: .suspectThreshold)
        clearThreshold = try c.decodeIfPresent(Double.self, forKey: .clearThreshold)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 1
        period = try c.decodeIfPresent(Double.self, forKey: .period)
        cooldown = try c.decodeIfPresent(Double.self, forKey: .cooldown) ?? 0
        reset = try c.decodeIfPresent(ResetPolicy.self, forKey: .reset) ?? .auto
        severity = try c.decodeIfPresent(String.self, forKey: .severity) ?? "warning"
    }

    /// Checks what a user can get wrong, naming the rule and the setting.
    public func validate() throws {
        func fail(_ message: String) -> FatalError { FatalError("rule '\(name)': \(message)") }
        guard !name.isEmpty else { throw FatalError("a rule needs a name") }
        guard !metric.isEmpty else { throw fail("metric path is empty") }
        guard count >= 1 else { throw fail("count must be at least 1") }
        if let period, period <= 0 { throw fail("period must be positive") }
        guard cooldown >= 0 else { throw fail("cooldown must not be negative") }
        if let suspectThreshold, comparison.isBad(suspectThreshold, threshold) {
            throw fail("suspect threshold \(suspectThreshold) must be softer than the threshold \(threshold) (on its good side)")
        }
        if let clearThreshold, comparison.isBad(clearThreshold, threshold) {
            throw fail("clear threshold \(clearThreshold) must be on the good side of the threshold \(threshold)")
        }
        try detector?.validate(rule: name)
    }

    /// The threshold a window must pass to clear a detected alert.
    public var effectiveClearThreshold: Double { clearThreshold ?? threshold }
}
