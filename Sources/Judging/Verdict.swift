import Records

/// The outcome of judging one record for one metric: what goes under the metric's name in the
/// output record.
public struct Verdict: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Scored.
        case ok
        /// The judge replied but no allowed score could be read; `raw` keeps the reply.
        case parseError = "parse_error"
        /// The record or the backend failed (missing field, server error after retries, timeout).
        case error
        /// Deliberately left out (`--sample`).
        case notJudged = "not_judged"
        /// The token or cost budget ran out before this record.
        case budgetExhausted = "budget_exhausted"

        /// Whether the record counts as failed for the exit status.
        public var isFailure: Bool { self == .parseError || self == .error }
    }

    public var status: Status
    /// The score: an allowed value, or the probability-weighted expectation when log-probabilities
    /// were read. Nil unless status is ok.
    public var score: Double?
    /// The allowed score the decision stands for (the expectation rounded to the nearest allowed
    /// score): what `pass` and calibration use.
    public var decision: ScoreScale.Option?
    public var pass: Bool?
    public var explanation: String = ""
    /// The reply as received, kept when it could not be parsed.
    public var raw: String?
    /// What went wrong, for error, not_judged and budget_exhausted.
    public var reason: String?
    public var distribution: ScoreDistribution?
    public var model: String
    public var templateSHA: String
    public var version: String
    public var promptTokens = 0
    public var completionTokens = 0
    public var latencyMilliseconds: Double = 0
    public var cost: Double = 0
    /// True when every backend reply came from the cache.
    public var cached = false
    /// Pairwise: the winner from the record's side ("a", "b" or "tie"), each order's verdict and
    /// whether they agreed.
    public var pairwise: PairwiseOutcome?
    /// A decomposed judge: the nodes evaluated for this record, in evaluation order.
    public var nodes: [NodeOutcome]?

    public struct PairwiseOutcome: Sendable, Equatable {
        public var winner: String
        /// The winner read in each order, as "a"/"b"/"tie" from the record's side: [A|B, B|A].
        public var orders: [String]
        public var consistent: Bool
    }

    public init(status: Status, model: String, templateSHA: String, version: String) {
        self.status = status
        self.model = model
        self.templateSHA = templateSHA
        self.version = version
    }

    /// The output object.
    public var json: JSONObject {
        var o = JSONObject()
        o["score"] = score.map(Self.number) ?? .null
        o["explanation"] = .string(explanation)
        o["status"] = .string(status.rawValue)
        o["pass"] = pass.map(JSONValue.bool) ?? .null
        if let decision, distribution != nil { o["decision"] = Self.number(decision.value) }
        if let distribution {
            o["distribution"] = .object(JSONObject(distribution.probabilities.map { ($0.option.label, .double(Self.rounded($0.probability))) }))
            o["entropy_bits"] = .double(Self.rounded(distribution.entropyBits))
            o["covered_mass"] = .double(Self.rounded(distribution.coveredMass))
        }
        if let pairwise {
            o["winner"] = .string(pairwise.winner)
            o["orders"] = .array(pairwise.orders.map { .string($0) })
            o["consistent"] = .bool(pairwise.consistent)
        }
        if let nodes {
            o["decision"] = score.map(Self.number) ?? .null
            o["nodes"] = .object(JSONObject(nodes.map { ($0.name, $0.json) }))
        }
        if let raw { o["raw"] = .string(raw) }
        if let reason { o["reason"] = .string(reason) }
        o["model"] = .string(model)
        o["template_sha"] = .string(templateSHA)
        o["version"] = .string(version)
        o["prompt_tokens"] = JSONValue(promptTokens)
        o["completion_tokens"] = JSONValue(completionTokens)
        o["latency_ms"] = .double((latencyMilliseconds * 10).rounded() / 10)
        o["cost"] = .double(cost)
        if cached { o["cached"] = true }
        return o
    }

    public static func number(_ value: Double) -> JSONValue {
        value == value.rounded() && abs(value) < 1e15 ? .int(Int64(value)) : .double(rounded(value))
    }

    static func rounded(_ value: Double) -> Double {
        (value * 1e6).rounded() / 1e6
    }
}
