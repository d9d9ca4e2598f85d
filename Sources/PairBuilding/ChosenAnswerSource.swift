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
    /// An in-scope (banking) question with no reference answer (exact or normalised), no neighbour's
    /// answer the judge passed and no sampled answer the judge passed.
    case noReference
    /// Neither the record nor the verdict says whether the question is about banking.
    case unknownTopic
    /// The teacher could not be reached or gave no usable answer.
    case teacher(String)

    public var description: String {
        switch self {
        case .noReference:
            return "no better answer for this in-scope question: no reference answer (exact or normalised; see --reference), and no neighbour's or sampled answer the judge passed (see --judged-answers)"
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

/// The offline policy: refuse out-of-scope (off-topic) questions with the refusal text; answer an
/// in-scope (banking) question, in this order, with
/// 1. its own reference answer (exact or normalised match);
/// 2. the reference answer of the nearest reference question, if their overlap is at least
///    `neighbourOverlap` and the judge passed that answer for this question (`judgedAnswers`);
/// 3. the strongest of the other judged answers to this question that passed (the current model's
///    samples);
/// and give none otherwise. Without `judgedAnswers` only 1 applies: no other question's answer is
/// taught unjudged.
public struct PolicyAnswers: ChosenAnswerSource {
    /// The overlap (`QuestionOverlap`) above which a neighbour's answer is tried. Chosen on
    /// examples/banking/validation.jsonl against train.jsonl (man/orpo-pairs.1, NEIGHBOURS): the
    /// lowest threshold at which no validation question gets a neighbour whose answer does not fit
    /// it; NeighbourThresholdTests repeats the choice.
    public static let defaultNeighbourOverlap = 0.7

    public var refusal: String
    public var topics: PolicyTopics
    public var references: ReferenceAnswers
    public var neighbourOverlap: Double
    public var judgedAnswers: JudgedAnswers?

    public init(refusal: String = PairBuildingSettings.defaultRefusal, topics: PolicyTopics = DomainPolicy.banking.topics,
                references: ReferenceAnswers, neighbourOverlap: Double = PolicyAnswers.defaultNeighbourOverlap,
                judgedAnswers: JudgedAnswers? = nil) {
        self.refusal = refusal
        self.topics = topics
        self.references = references
        self.neighbourOverlap = neighbourOverlap
        self.judgedAnswers = judgedAnswers
    }

    /// The neighbour whose answer would be tried for `question` (step 2), judged or not.
    public func neighbour(of question: String) -> ReferenceNeighbour? {
        references.nearest(to: question, minimumOverlap: neighbourOverlap)
    }

    public func chosenAnswer(for record: JudgedRecord) throws -> ChosenAnswer {
        switch record.topic.flatMap(topics.scope(of:)) {
        case .outOfScope?:
            return ChosenAnswer(text: refusal, origin: .refusalPolicy)
        case .inScope?:
            if let found = references.answer(to: record.question) {
                return ChosenAnswer(text: found.answer, origin: .reference)
            }
            guard let judgedAnswers else { throw ChosenAnswerError.noReference }
            let neighbour = neighbour(of: record.question)
            if let neighbour, judgedAnswers.verdict(question: record.question, answer: neighbour.answer)?.passes == true {
                return ChosenAnswer(text: neighbour.answer, origin: .neighbour)
            }
            var excluded: Set<String> = [record.answer]
            if let neighbour { excluded.insert(neighbour.answer) }
            if let sample = judgedAnswers.best(question: record.question, excluding: excluded) {
                return ChosenAnswer(text: sample.answer, origin: .sample)
            }
            throw ChosenAnswerError.noReference
        case nil:
            throw ChosenAnswerError.unknownTopic
        }
    }
}
