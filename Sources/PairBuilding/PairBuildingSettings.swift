/// What `orpo-pairs` reads from a judged record and which records it turns into pairs. The defaults
/// match the records `judge` writes with the `restrict_to_banking` metric.
public struct PairBuildingSettings: Sendable, Equatable {
    /// The exact refusal the banking agent must give to anything that is not about banking (the
    /// `chosen` of every off-topic row in examples/banking).
    public static let defaultRefusal =
        "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?"

    /// The metric's verdict object in each record (a dotted path such as `judge.restrict_to_banking`
    /// reaches a nested one).
    public var metric = "restrict_to_banking"
    /// Select records whose score is below this. Nil selects the records the judge failed (`pass`
    /// false), which is the judge configuration's own pass threshold.
    public var threshold: Double? = nil
    public var questionField = "question"
    public var answerField = "answer"
    /// The record id kept as `source_id`; a record without one is named by `file:line`.
    public var idField = "id"
    /// A record field (or dotted path, e.g. `metadata.topic` as the server logs a request's
    /// metadata) holding "banking" or "off_topic"; when absent, the verdict's own `topic`.
    public var topicField = "topic"
    public var refusal = PairBuildingSettings.defaultRefusal

    public init() {}
}

/// The subject of a question, which decides the policy's `chosen` answer.
public enum Topic: String, Sendable, CaseIterable {
    case banking
    case offTopic = "off_topic"
}
