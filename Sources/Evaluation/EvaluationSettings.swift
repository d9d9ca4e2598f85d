/// Where the evaluation finds what it needs in a judged record. The defaults match what `judge`
/// writes on a labelled split (`{"question", "topic", "answer", "restrict_to_banking": {...}}`).
public struct EvaluationSettings: Sendable, Equatable {
    /// The judge's verdict object (a dotted path reaches a nested one).
    public var metric: String
    /// The question's label (a dotted path such as `metadata.topic`, where gemma-infer serve logs a
    /// request's metadata).
    public var topicField = "topic"
    public var answerField = "answer"
    /// A labelled split must carry one of the policy's topics on every record (the gate); traffic may
    /// carry none or another (`loop-eval figures`): a record without one takes the judge's topic
    /// node's decision where `topicFromJudge`, and one with neither, or with another label, is scored by
    /// the judge alone.
    public var requiresKnownTopics = true
    /// A record without a label takes the topic a decomposed judge's topic node decided
    /// (`<metric>.nodes.topic.decision`), so traffic whose clients sent no metadata is still scored
    /// by the rule and its refusals counted per topic. Off by default, as for the gate: on a
    /// labelled split a question's topic must not depend on which model's file it is read from.
    public var topicFromJudge = false

    public init(metric: String) {
        self.metric = metric
    }
}
