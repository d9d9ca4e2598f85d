import Records

/// Where a pair's `chosen` answer came from, written as `chosen_from` so that a trained model's
/// behaviour can be traced back to the policy or teacher that taught it.
public enum ChosenOrigin: String, Sendable, CaseIterable {
    /// An OpenAI-compatible teacher model answered the question.
    case teacher
    /// The question is off topic: the refusal text.
    case refusalPolicy = "refusal_policy"
    /// A banking question found (exactly or after normalisation) in the reference file.
    case reference
    /// The reference answer of the nearest question in the reference file (by `QuestionOverlap`,
    /// above the threshold), which the judge passed for this question.
    case neighbour
    /// The best of the current model's sampled answers to this question, as the judge ranked them.
    case sample
    /// A row of the base dataset, mixed in as it was written.
    case dataset
    /// The answer a user gave as the correction in their feedback.
    case userCorrection = "user_correction"
}

/// Which stream a pair belongs to, written as `source`.
public enum PairSource: String, Sendable {
    /// Made from a judged production record.
    case traffic
    /// Taken from the base dataset (`--base`).
    case base
    /// Made from a user's thumbs-down (or low) rating of a served answer.
    case feedback
}

/// How pairs are written: the two dataset forms TRL's ORPO trainer accepts.
public enum PairFormat: String, Sendable, CaseIterable {
    /// `prompt`, `chosen` and `rejected` as plain strings.
    case text
    /// Conversational: `prompt` as `[{"role":"user","content":...}]`, `chosen` and `rejected` as
    /// `[{"role":"assistant","content":...}]`; the trainer applies the model's chat template.
    case messages
}

/// One preference pair with its provenance.
public struct PreferencePair: Sendable, Equatable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var source: PairSource
    /// The input record's id (or `file:line` when it has none).
    public var sourceID: String
    /// The judge's score of the rejected answer; nil for base rows.
    public var judgeScore: Double?
    public var chosenFrom: ChosenOrigin
    /// The teacher model's name when `chosenFrom` is `.teacher`.
    public var teacher: String?
    /// "banking" or "off_topic" when known.
    public var topic: String?

    public init(
        prompt: String, chosen: String, rejected: String, source: PairSource, sourceID: String,
        judgeScore: Double? = nil, chosenFrom: ChosenOrigin, teacher: String? = nil, topic: String? = nil
    ) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.source = source
        self.sourceID = sourceID
        self.judgeScore = judgeScore
        self.chosenFrom = chosenFrom
        self.teacher = teacher
        self.topic = topic
    }

    /// The output line: the three fields the trainer reads, then the provenance fields (which the
    /// trainer ignores).
    public func record(format: PairFormat) -> JSONObject {
        var object = JSONObject()
        switch format {
        case .text:
            object["prompt"] = .string(prompt)
            object["chosen"] = .string(chosen)
            object["rejected"] = .string(rejected)
        case .messages:
            object["prompt"] = Self.messages(role: "user", prompt)
            object["chosen"] = Self.messages(role: "assistant", chosen)
            object["rejected"] = Self.messages(role: "assistant", rejected)
        }
        object["source"] = .string(source.rawValue)
        object["source_id"] = .string(sourceID)
        object["judge_score"] = Self.number(judgeScore)
        object["chosen_from"] = .string(chosenFrom.rawValue)
        object["teacher"] = teacher.map(JSONValue.string) ?? .null
        if let topic { object["topic"] = .string(topic) }
        return object
    }

    /// Rubric scores are integers: write them as `0`, not `0.0`, as the judge wrote them.
    private static func number(_ value: Double?) -> JSONValue {
        guard let value else { return .null }
        if let integer = Int64(exactly: value) { return .int(integer) }
        return .double(value)
    }

    private static func messages(role: String, _ content: String) -> JSONValue {
        .array([.object(["role": .string(role), "content": .string(content)])])
    }
}
