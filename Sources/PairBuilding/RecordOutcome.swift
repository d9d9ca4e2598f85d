/// What became of one input record: exactly one outcome each, so the summary's counts add up to the
/// records read.
public enum RecordOutcome: Sendable, Equatable {
    /// It became a pair.
    case selected(ChosenOrigin)
    /// The judge passed it (score at or above the threshold): nothing to correct.
    case passedThreshold
    /// The verdict's status is not ok (parse_error, error, not_judged, budget_exhausted): no score to
    /// trust.
    case judgeError(status: String)
    /// Its normalised question already became a pair.
    case duplicate
    /// Its normalised question is in the evaluation set.
    case leaked
    /// The model's answer already is the chosen answer: a pair would teach nothing.
    case sameAnswer
    /// A banking question without a reference answer, nor a neighbour's or sampled answer the judge
    /// passed.
    case noReference
    /// No topic, no teacher.
    case unknownTopic
    /// The teacher failed for it.
    case teacherError(String)
    /// The line is not a JSON object or a field is missing or mistyped.
    case malformed(String)
    /// A record of a request the server refused (`"type": "rejected"`): no answer to learn from.
    case notAnAnswer

    /// The key under which the summary counts it.
    public var reason: String {
        switch self {
        case .selected: return "selected"
        case .passedThreshold: return "passed_threshold"
        case .judgeError: return "judge_error"
        case .duplicate: return "duplicate"
        case .leaked: return "leaked"
        case .sameAnswer: return "same_answer"
        case .noReference: return "no_reference"
        case .unknownTopic: return "unknown_topic"
        case .teacherError: return "teacher_error"
        case .malformed: return "malformed"
        case .notAnAnswer: return "not_an_answer"
        }
    }

    /// Every reason in summary order.
    public static let reasons = [
        "selected", "passed_threshold", "judge_error", "duplicate", "leaked", "same_answer", "no_reference",
        "unknown_topic", "teacher_error", "malformed", "not_an_answer",
    ]

    /// The reasons of records that should have become pairs and could not: these make the exit
    /// status 1. Skips by design (passed, judge errors upstream, duplicates, leaks, nothing to teach)
    /// do not.
    public static let errorReasons: Set<String> = ["no_reference", "unknown_topic", "teacher_error", "malformed"]

    public var isError: Bool { Self.errorReasons.contains(reason) }
}
