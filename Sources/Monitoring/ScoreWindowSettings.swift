import Records

/// score-window's settings: a `Codable` struct with explicit defaults, read from `--config FILE`
/// (snake_case keys; durations as a number of seconds or a string as the flags take them, `"2m"`,
/// `"1h30m"`) and overridden by flags.
public struct ScoreWindowSettings: Codable, Equatable, Sendable {
    /// Window length in seconds (`--period`; 2 minutes, the older system's base period).
    public var period: Double = 120
    /// Slide in seconds (`--every`); nil means tumbling windows (slide = period).
    public var every: Double? = nil
    /// Where the grid of window starts is anchored (`--origin`): the epoch, the first record, or an instant.
    public var origin: WindowOrigin = .epoch
    /// Fields the windows are grouped by (`--by model,adapter`).
    public var by: [String] = []
    /// How far behind the newest event time a record may arrive and still count (`--lateness`).
    public var lateness: Double = 0
    /// A judge score at or above this passes, when the judge gave no `pass` field.
    public var passThreshold: Double = 0.5
    /// Per-metric pass thresholds, overriding `pass_threshold`.
    public var passThresholds: [String: Double] = [:]
    /// Reference for drift: this many first windows of each group (`--reference-windows`).
    public var referenceWindows: Int? = nil
    /// Reference for drift: a JSONL file of traffic (`--reference`).
    public var reference: String? = nil
    public var drift = DriftSettings()

    enum CodingKeys: String, CodingKey {
        case period, every, origin, by, lateness, passThreshold = "pass_threshold", passThresholds = "pass_thresholds"
        case referenceWindows = "reference_windows", reference, drift
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ScoreWindowSettings()
        period = try Self.duration(c, .period) ?? d.period
        every = try Self.duration(c, .every)
        origin = try c.decodeIfPresent(WindowOrigin.self, forKey: .origin) ?? d.origin
        by = try c.decodeIfPresent([String].self, forKey: .by) ?? d.by
        lateness = try Self.duration(c, .lateness) ?? d.lateness
        passThreshold = try c.decodeIfPresent(Double.self, forKey: .passThreshold) ?? d.passThreshold
        passThresholds = try c.decodeIfPresent([String: Double].self, forKey: .passThresholds) ?? d.passThresholds
        referenceWindows = try c.decodeIfPresent(Int.self, forKey: .referenceWindows)
        reference = try c.decodeIfPresent(String.self, forKey: .reference)
        drift = try c.decodeIfPresent(DriftSettings.self, forKey: .drift) ?? d.drift
    }

    /// A duration setting: seconds as a number, or a string such as `"90s"`, `"2m"`, `"1h30m"`.
    private static func duration(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Double? {
        if let text = try? c.decodeIfPresent(String.self, forKey: key) {
            do {
                return try DurationParser.seconds(text)
            } catch {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(error)")
            }
        }
        return try c.decodeIfPresent(Double.self, forKey: key)
    }

    /// The slide between window starts.
    public var slide: Double { every ?? period }

    /// Checks values a user can get wrong; the message names the setting.
    public func validate() throws {
        guard period > 0, period.isFinite else { throw FatalError("period must be a positive duration, got \(period)s") }
        if let every {
            guard every > 0, every.isFinite else { throw FatalError("every must be a positive duration, got \(every)s") }
            guard every <= period else { throw FatalError("every (\(every)s) must not exceed the period (\(period)s): windows would leave gaps") }
            guard period / every <= 1000 else { throw FatalError("period/every is \(Int(period / every)); at most 1000 overlapping windows are supported") }
        }
        guard lateness >= 0 else { throw FatalError("lateness must not be negative") }
        if let n = referenceWindows, n < 1 { throw FatalError("reference windows must be at least 1") }
        if reference != nil && referenceWindows != nil { throw FatalError("give either a reference file or a number of reference windows, not both") }
        guard drift.minSamples >= 1 else { throw FatalError("drift min_samples must be at least 1") }
    }
}
