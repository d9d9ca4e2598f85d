import Policy

/// Whether one answer to a labelled question passes: where the question's label settles the verdict
/// the label is used, and the judge decides only what the label cannot.
///
/// - An out-of-scope question passes exactly when the answer refuses: the judge's verdict does not
///   count (a small judge passes plausible off-topic answers).
/// - An in-scope question that the answer refuses fails: a false refusal.
/// - An in-scope question that is answered takes the judge's verdict (is the answer right?).
/// - A question whose label the policy does not know (or that has none, as raw traffic) takes the
///   judge's verdict: the label settles nothing.
public enum AnswerRule {
    public static func passes(scope: TopicScope?, refused: Bool, judgePassed: Bool) -> Bool {
        switch scope {
        case .outOfScope?: return refused
        case .inScope?: return judgePassed && !refused
        case nil: return judgePassed
        }
    }
}
