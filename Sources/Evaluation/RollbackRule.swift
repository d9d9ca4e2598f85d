import Policy
import Records

/// The bounds of the rollback rule, as data (examples/banking/retrain.json, `rollback`).
public struct RollbackThresholds: Sendable, Equatable {
    /// How far the pass rate after the deploy may fall below the one before it (0.1: ten points).
    public var maxPassRateDrop: Double
    /// Judged records the window after the deploy needs before the rule may act on it: fewer say
    /// too little, and the deployed model is kept.
    public var minRecords: Int

    public init(maxPassRateDrop: Double, minRecords: Int) {
        self.maxPassRateDrop = maxPassRateDrop
        self.minRecords = minRecords
    }
}

/// The rollback rule of the loop: after a promotion, is the deployed model worse on the traffic
/// than the one it replaced?
///
/// The loop compares the first window of traffic after the deploy with the last one before it (the
/// traffic that made the alert fire), both scored by the same rule (`AnswerRule`). The previous
/// model is restored when the window after the deploy holds at least `minRecords` judged records and
/// either
/// 1. its pass rate is more than `maxPassRateDrop` below the window before the deploy, or
/// 2. it refuses more of the in-scope questions than the gate's bound
///    (`GateThresholds.maxFalseRefusalRate`): the gate's promise, broken on live traffic.
/// Like the gate, it compares the rates as reported (rounded to 4 places, `Rate`).
public struct RollbackRule: Sendable, Equatable {
    public var thresholds: RollbackThresholds
    /// The gate's bound on refused in-scope questions.
    public var maxFalseRefusalRate: Double
    /// The in-scope topics as the reasons name them ("banking").
    public var inScopeName: String

    public init(thresholds: RollbackThresholds, maxFalseRefusalRate: Double, inScopeName: String) {
        self.thresholds = thresholds
        self.maxFalseRefusalRate = maxFalseRefusalRate
        self.inScopeName = inScopeName
    }

    /// The rule with the policy's gate bound on false refusals.
    public init(thresholds: RollbackThresholds, policy: DomainPolicy) {
        self.init(thresholds: thresholds, maxFalseRefusalRate: policy.gate.maxFalseRefusalRate,
                  inScopeName: policy.topics.inScopeName)
    }

    /// What the rule reads of one window.
    public struct Window: Sendable, Equatable {
        public var passRate: Double?
        public var falseRefusalRate: Double?
        /// Records that were judged (the pass rate's denominator).
        public var judged: Int

        public init(passRate: Double?, falseRefusalRate: Double?, judged: Int) {
            self.passRate = passRate
            self.falseRefusalRate = falseRefusalRate
            self.judged = judged
        }

        public init(_ figures: EvaluationFigures) {
            self.init(passRate: figures.passRate, falseRefusalRate: figures.falseRefusalRate, judged: figures.judged)
        }
    }

    public func decide(before: Window, after: Window) -> RollbackDecision {
        guard after.judged >= thresholds.minRecords else {
            return RollbackDecision(rollback: false, reasons: [],
                                    note: "\(after.judged) judged records after the deploy, fewer than \(thresholds.minRecords): kept")
        }
        var reasons: [String] = []
        if let beforeRate = before.passRate, let afterRate = after.passRate {
            let drop = Rate.rounded(beforeRate - afterRate)
            if drop > thresholds.maxPassRateDrop {
                reasons.append("pass rate fell from \(beforeRate) to \(afterRate) (more than \(thresholds.maxPassRateDrop))")
            }
        }
        if let falseRefusals = after.falseRefusalRate, falseRefusals > maxFalseRefusalRate {
            reasons.append("refuses \(falseRefusals) of \(inScopeName) questions (bound \(maxFalseRefusalRate))")
        }
        return RollbackDecision(rollback: !reasons.isEmpty, reasons: reasons,
                                note: reasons.isEmpty ? "no worse on the traffic: kept" : nil)
    }

    public func decide(before: EvaluationFigures, after: EvaluationFigures) -> RollbackDecision {
        decide(before: Window(before), after: Window(after))
    }
}

/// The rollback rule's verdict and why.
public struct RollbackDecision: Sendable, Equatable {
    public var rollback: Bool
    /// Each bound the deployed model broke; empty when it is kept.
    public var reasons: [String]
    /// Why it is kept, when it is.
    var note: String?

    /// The reasons in one line, or why the deployed model is kept.
    public var reason: String { reasons.isEmpty ? note ?? "kept" : reasons.joined(separator: "; ") }

    /// The rule's record (`rollback.json`): the decision, the bounds, and both windows' figures.
    public func record(rule: RollbackRule, policy: String, before: EvaluationFigures, after: EvaluationFigures) -> JSONObject {
        [
            "rollback": JSONValue(rollback), "reason": JSONValue(reason),
            "max_pass_rate_drop": JSONValue(rule.thresholds.maxPassRateDrop),
            "min_records": JSONValue(rule.thresholds.minRecords),
            "max_false_refusal": JSONValue(rule.maxFalseRefusalRate),
            "policy": JSONValue(policy),
            "before": .object(before.json), "after": .object(after.json),
        ]
    }
}
