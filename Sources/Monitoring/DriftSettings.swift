import Records

/// The drift statistics score-window reports; raw values name them in the output record.
public enum DriftTest: String, CaseIterable, Codable, Sendable {
    case psi
    case ks
    case jensenShannon = "jensen_shannon"
    case hellinger
    case totalVariation = "total_variation"
    case wasserstein
}

/// Thresholds and sample sizes for drift, with Evidently's defaults (PSI 0.1, K–S p-value 0.05,
/// distances 0.1); readable from the `drift` member of a score-window JSON config.
public struct DriftSettings: Codable, Equatable, Sendable {
    /// Below this many values in the window or in the reference, a feature says "not enough data".
    public var minSamples: Int = 30
    public var psi: Double = 0.1
    public var ksPValue: Double = 0.05
    public var jensenShannon: Double = 0.1
    public var hellinger: Double = 0.1
    public var totalVariation: Double = 0.1
    public var wasserstein: Double = 0.1
    /// The statistic whose verdict becomes the feature's `drift_detected`.
    public var decision: DriftTest = .psi

    enum CodingKeys: String, CodingKey {
        case minSamples = "min_samples", psi, ksPValue = "ks_p_value", jensenShannon = "jensen_shannon"
        case hellinger, totalVariation = "total_variation", wasserstein, decision
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DriftSettings()
        minSamples = try c.decodeIfPresent(Int.self, forKey: .minSamples) ?? d.minSamples
        psi = try c.decodeIfPresent(Double.self, forKey: .psi) ?? d.psi
        ksPValue = try c.decodeIfPresent(Double.self, forKey: .ksPValue) ?? d.ksPValue
        jensenShannon = try c.decodeIfPresent(Double.self, forKey: .jensenShannon) ?? d.jensenShannon
        hellinger = try c.decodeIfPresent(Double.self, forKey: .hellinger) ?? d.hellinger
        totalVariation = try c.decodeIfPresent(Double.self, forKey: .totalVariation) ?? d.totalVariation
        wasserstein = try c.decodeIfPresent(Double.self, forKey: .wasserstein) ?? d.wasserstein
        decision = try c.decodeIfPresent(DriftTest.self, forKey: .decision) ?? d.decision
    }

    /// Compares a current sample with a reference and describes the result as the `drift.<feature>`
    /// member of a window record:
    /// `{"n", "reference_n", "status": "drift"|"no_drift"|"not_enough_data", "drift_detected",
    ///   "psi": {"value", "threshold", "drift"}, "ks": {"value" (the p-value), "statistic", "threshold",
    ///   "drift"}, "jensen_shannon", "hellinger", "total_variation", "wasserstein": {..., "raw"}}`.
    public func evaluate(reference: [Double], current: [Double]) -> JSONObject {
        var out: JSONObject = ["n": JSONValue(current.count), "reference_n": JSONValue(reference.count)]
        guard current.count >= max(1, minSamples), reference.count >= max(1, minSamples) else {
            out["status"] = "not_enough_data"
            out["min_samples"] = JSONValue(minSamples)
            return out
        }
        let shares = DriftStatistics.binnedShares(reference: reference, current: current)
        let ks = DriftStatistics.kolmogorovSmirnov(reference: reference, current: current)
        let rawWasserstein = DriftStatistics.wassersteinDistance(reference: reference, current: current)
        let spread = SampleStatistics.populationStandardDeviation(reference) ?? 0
        let normedWasserstein = spread > 0 ? rawWasserstein / spread : rawWasserstein
        var verdicts: [DriftTest: Bool] = [:]
        func distance(_ test: DriftTest, _ value: Double, _ threshold: Double) -> JSONValue {
            let drift = value >= threshold
            verdicts[test] = drift
            return ["value": JSONValue(value), "threshold": JSONValue(threshold), "drift": JSONValue(drift)]
        }
        let psiValue = distance(.psi, DriftStatistics.populationStabilityIndex(reference: shares.reference, current: shares.current), psi)
        let ksDrift = ks.pValue < ksPValue
        verdicts[.ks] = ksDrift
        let ksValue: JSONValue = ["value": JSONValue(ks.pValue), "statistic": JSONValue(ks.statistic),
                                  "threshold": JSONValue(ksPValue), "drift": JSONValue(ksDrift)]
        let js = distance(.jensenShannon, DriftStatistics.jensenShannonDistance(reference: shares.reference, current: shares.current), jensenShannon)
        let hd = distance(.hellinger, DriftStatistics.hellingerDistance(reference: shares.reference, current: shares.current), hellinger)
        let tv = distance(.totalVariation, DriftStatistics.totalVariationDistance(reference: shares.reference, current: shares.current), totalVariation)
        var ws = distance(.wasserstein, normedWasserstein, wasserstein)
        if case var .object(o) = ws {
            o["raw"] = JSONValue(rawWasserstein)
            ws = .object(o)
        }
        let detected = verdicts[decision] ?? false
        out["status"] = detected ? "drift" : "no_drift"
        out["drift_detected"] = JSONValue(detected)
        out["decision"] = .string(decision.rawValue)
        out["psi"] = psiValue
        out["ks"] = ksValue
        out["jensen_shannon"] = js
        out["hellinger"] = hd
        out["total_variation"] = tv
        out["wasserstein"] = ws
        return out
    }
}
