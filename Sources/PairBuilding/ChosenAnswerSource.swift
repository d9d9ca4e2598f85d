import Policy

/// The answer a pair teaches, with where it came from.
public struct ChosenAnswer: Sendable, Equatable {
    public var text: String
    public var origin: ChosenOrigin
    /// The teacher model's name, for `origin == .teacher`.
    public var teacher: String?

    public init(text: String, origin: ChosenOrigin, teacher: String? = nil) {
        self.text = text
        self.origin = origin
        self.teacher = teacher
    }
}

/// Why no `chosen` answer could be had for a record. Each is reported with the record's location and
/// counted under its own reason; nothing is invented in its place.
public enum ChosenAnswerError: Error, Equatable, CustomStringConvertible {
    /// An in-scope (banking) question with no reference answer, exact or normalised.
    case noReference
    /// Neither the record nor the verdict says whether the question is about banking.
    case unknownTopic
    /// The teacher could not be reached or gave no usable answer.
    case teacher(String)

    public var description: String {
        switch self {
        case .noReference:
            return "no reference answer for this in-scope question (exact or normalised; see --reference)"
        case .unknownTopic:
            return "topic unknown: the record has no topic field and the verdict no 'topic' and no topic node (set --topic-field or a teacher)"
        case let .teacher(message):
            return "teacher failed: \(message)"
        }
    }
}

/// Supplies the `chosen` answer for a judged record: the refusal policy with reference answers
/// offline, or a teacher model.
public protocol ChosenAnswerSource {
    /// - Throws: `ChosenAnswerError`.
    func chosenAnswer(for record: JudgedRecord) throws -> ChosenAnswer
}

/// The offline policy: refuse out-of-scope (off-topic) questions with the refusal text, answer
/// in-scope (banking) questions with their reference answer.
public struct PolicyAnswers: ChosenAnswerSource {
    public var refusal: String
    public var topics: PolicyTopics
    public var references: ReferenceAnswers

    public init(refusal: String = PairBuildingSettings.defaultRefusal, topics: PolicyTopics = DomainPolicy.banking.topics,
                references: ReferenceAnswers) {
        self.refusal = refusal
        self.topics = topics
        self.references = references
    }

    public func chosenAnswer(for record: JudgedRecord) throws -> ChosenAnswer {
        switch record.topic.flatMap(topics.scope(of:)) {
        case .outOfScope?:
            return ChosenAnswer(text: refusal, origin: .refusalPolicy)
        case .inScope?:
            guard let found = references.answer(to: record.question) else { throw ChosenAnswerError.noReference }
            return ChosenAnswer(text: found.answer, origin: .reference)
        case nil:
            throw ChosenAnswerError.unknownTopic
        }
    }
}
