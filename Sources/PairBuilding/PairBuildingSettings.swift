import Policy

/// What `orpo-pairs` reads from a judged record and which records it turns into pairs. The defaults
/// are the bank's policy (`DomainPolicy.banking`) and match the records `judge` writes with the
/// `restrict_to_banking` metric.
public struct PairBuildingSettings: Sendable, Equatable {
    /// The exact refusal the banking agent must give to anything that is not about banking (the
    /// `chosen` of every off-topic row in examples/banking): the bank's policy's refusal text.
    public static var defaultRefusal: String { DomainPolicy.banking.refusal.text }

    /// The metric's verdict object in each record (a dotted path such as `judge.restrict_to_banking`
    /// reaches a nested one).
    public var metric = DomainPolicy.banking.metric
    /// Select records whose score is below this. Nil selects the records the judge failed (`pass`
    /// false), which is the judge configuration's own pass threshold.
    public var threshold: Double? = nil
    public var questionField = "question"
    public var answerField = "answer"
    /// The record id kept as `source_id`; a record without one is named by `file:line`.
    public var idField = "id"
    /// A record field (or dotted path, e.g. `metadata.topic` as the server logs a request's
    /// metadata) holding one of `topics` ("banking" or "off_topic"); when absent, the verdict's own
    /// `topic`.
    public var topicField = "topic"
    /// The labels a record's topic may have, and which side of the policy each is on: an
    /// out-of-scope question is taught the refusal, an in-scope one its reference answer.
    public var topics = DomainPolicy.banking.topics
    public var refusal = PairBuildingSettings.defaultRefusal
    /// What a teacher endpoint is told to be (the policy's instructions, then its refusal).
    public var teacherPrompt = DomainPolicy.banking.teacherPrompt

    public init() {}

    /// The settings of `policy`: its metric, topics, refusal text and teacher prompt.
    public init(policy: DomainPolicy) {
        metric = policy.metric
        topics = policy.topics
        refusal = policy.refusal.text
        teacherPrompt = policy.teacherPrompt
    }
}
