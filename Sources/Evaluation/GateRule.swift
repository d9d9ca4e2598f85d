import Policy
import Records

/// The promotion rule of the loop's gate: should the candidate model replace the current one?
///
/// Both models answer the same held-out, labelled questions and the judge scores both. The candidate
/// is promoted when all of these hold:
/// 1. its pass rate (by `AnswerRule`) is higher than the current model's;
/// 2. it refuses at most `maxFalseRefusalRate` of the in-scope questions;
/// 3. and no more of them than the current model plus `maxFalseRefusalIncrease`.
/// A model that refuses everything passes every out-of-scope question; 2 and 3 keep it from winning
/// that way. The rule compares the rates as reported (rounded to 4 places, `Rate`), so that anyone
/// can check a decision against the figures printed beside it.
public struct GateRule: Sendable, Equatable {
    public var thresholds: GateThresholds
    /// The in-scope topics as the reasons name them ("banking").
    public var inScopeName: String

    public init(thresholds: GateThresholds, inScopeName: String) {
        self.thresholds = thresholds
        self.inScopeName = inScopeName
    }

    /// The policy's rule; `maxFalseRefusalRate`, when given, overrides the policy's bound.
    public init(policy: DomainPolicy, maxFalseRefusalRate: Double? = nil) {
        var thresholds = policy.gate
        if let maxFalseRefusalRate { thresholds.maxFalseRefusalRate = maxFalseRefusalRate }
        self.init(thresholds: thresholds, inScopeName: policy.topics.inScopeName)
    }

    /// What the rule reads of one model's figures.
    public struct Side: Sendable, Equatable {
        public var passRate: Double?
        /// Refusals among the in-scope questions.
        public var falseRefusalRate: Double?

        public init(passRate: Double?, falseRefusalRate: Double?) {
            self.passRate = passRate
            self.falseRefusalRate = falseRefusalRate
        }

        public init(_ figures: EvaluationFigures) {
            self.init(passRate: figures.passRate, falseRefusalRate: figures.falseRefusalRate)
        }

        /// From a side of a gate record (`gate.json`'s `current` or `candidate`).
        ///
        /// - Throws: `RecordError` when `pass_rate` or `false_refusal_rate` is neither a number nor null.
        public init(json: JSONObject) throws {
            func rate(_ key: String) throws -> Double? {
                switch json[key] {
                case nil, .null?: return nil
                case let value?:
                    guard let number = value.double else {
                        throw RecordError("field '\(key)' must be a number or null, found \(value.kindName)")
                    }
                    return number
                }
            }
            self.init(passRate: try rate("pass_rate"), falseRefusalRate: try rate("false_refusal_rate"))
        }
    }

    public func decide(current: Side, candidate: Side) -> GateDecision {
        var reasons: [String] = []
        if let candidateRate = candidate.passRate, let currentRate = current.passRate {
            if candidateRate <= currentRate {
                reasons.append("pass rate \(candidateRate) is not above the current \(currentRate)")
            }
        } else {
            reasons.append("no judged answers to compare")
        }
        let falseRefusals = candidate.falseRefusalRate ?? 0
        if falseRefusals > thresholds.maxFalseRefusalRate {
            reasons.append("refuses \(falseRefusals) of \(inScopeName) questions (bound \(thresholds.maxFalseRefusalRate))")
        }
        if falseRefusals > (current.falseRefusalRate ?? 0) + thresholds.maxFalseRefusalIncrease {
            let currentText = current.falseRefusalRate.map { "\($0)" } ?? "none"
            reasons.append("refuses \(falseRefusals) of \(inScopeName) questions, the current model \(currentText)")
        }
        return GateDecision(promote: reasons.isEmpty, reasons: reasons, inScopeName: inScopeName)
    }

    public func decide(current: EvaluationFigures, candidate: EvaluationFigures) -> GateDecision {
        decide(current: Side(current), candidate: Side(candidate))
    }
}

/// The gate's verdict and why.
public struct GateDecision: Sendable, Equatable {
    public var promote: Bool
    /// Each bound the candidate missed; empty when promoted.
    public var reasons: [String]
    var inScopeName: String

    /// The reasons in one line, or why the candidate won.
    public var reason: String {
        reasons.isEmpty ? "better pass rate, \(inScopeName) still answered" : reasons.joined(separator: "; ")
    }

    /// The gate's record (`gate.json`), with the fields the Python gate (scripts/gate-decision) wrote first:
    /// `promote`, `reason`, `pass_rate_from`, `max_false_refusal`, then the increase bound and the
    /// policy's name, then each model's figures.
    public func record(rule: GateRule, policy: String, judgeOnly: Bool,
                       current: EvaluationFigures, candidate: EvaluationFigures) -> JSONObject {
        [
            "promote": JSONValue(promote), "reason": JSONValue(reason),
            "pass_rate_from": JSONValue(judgeOnly ? "judge" : "labels and judge"),
            "max_false_refusal": JSONValue(rule.thresholds.maxFalseRefusalRate),
            "max_false_refusal_increase": JSONValue(rule.thresholds.maxFalseRefusalIncrease),
            "policy": JSONValue(policy),
            "current": .object(current.json), "candidate": .object(candidate.json),
        ]
    }
}
