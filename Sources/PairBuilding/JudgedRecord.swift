import Policy
import Records

/// The parts of one judged traffic record that pair building needs, read and checked once.
public struct JudgedRecord: Sendable, Equatable {
    /// The judge statuses of a verdict; only `ok` carries a score worth learning from.
    public static let okStatus = "ok"

    public var id: String
    public var question: String
    public var answer: String
    /// The verdict's `status`: ok, parse_error, error, not_judged, budget_exhausted.
    public var status: String
    /// The score; nil only when the status is not ok.
    public var score: Double?
    /// The verdict's `pass`, when present.
    public var passed: Bool?
    /// From the record's topic field, else the verdict's `topic`; nil when neither says. Always one
    /// of the settings' topics.
    public var topic: String?

    public init(
        id: String, question: String, answer: String, status: String = JudgedRecord.okStatus,
        score: Double?, passed: Bool? = nil, topic: String? = nil
    ) {
        self.id = id
        self.question = question
        self.answer = answer
        self.status = status
        self.score = score
        self.passed = passed
        self.topic = topic
    }

    public var isJudged: Bool { status == Self.okStatus }

    /// Reads `record`. A record whose verdict is not ok needs only the verdict's status (its other
    /// fields are not used); an ok record must have its question, answer and numeric score.
    ///
    /// - Throws: `RecordError` naming the missing or mistyped field.
    public init(record: JSONObject, location: RecordLocation, settings: PairBuildingSettings) throws {
        guard let verdictValue = record.value(atPath: settings.metric) else {
            throw RecordError("missing field '\(settings.metric)' (the judge's verdict; see --metric)")
        }
        guard let verdict = verdictValue.object else {
            throw RecordError("field '\(settings.metric)' must be an object, found \(verdictValue.kindName)")
        }
        guard let status = verdict["status"]?.string else {
            throw RecordError("field '\(settings.metric).status' is missing or not a string")
        }
        self.status = status
        id = try Self.optionalString(record, settings.idField) ?? location.description
        let isOK = status == Self.okStatus
        question = isOK ? try Self.requiredString(record, settings.questionField) : ""
        answer = isOK ? try Self.requiredString(record, settings.answerField) : ""
        switch verdict["score"] {
        case let value? where value.double != nil:
            score = value.double
        case nil, .null?:
            if isOK { throw RecordError("field '\(settings.metric).score' is missing") }
            score = nil
        case let value?:
            throw RecordError("field '\(settings.metric).score' must be a number, found \(value.kindName)")
        }
        switch verdict["pass"] {
        case nil, .null?: passed = nil
        case let .bool(value)?: passed = value
        case let value?:
            throw RecordError("field '\(settings.metric).pass' must be a boolean, found \(value.kindName)")
        }
        if let value = record.value(atPath: settings.topicField) {
            topic = try Self.topic(value, field: settings.topicField, topics: settings.topics)
        } else if let value = verdict["topic"], !value.isNull {
            topic = try Self.topic(value, field: "\(settings.metric).topic", topics: settings.topics)
        } else {
            topic = try settings.topics.topic(decidedIn: verdict, metric: settings.metric)
        }
    }

    /// Reads a user's feedback record (`"type": "feedback"`, as `gemma-infer serve` logs it, joined
    /// to the answer it rates): its question and answer, the rating as the score (normalised to
    /// [0, 1]) and its pass, and the topic from the topic field (the server copies a client's
    /// `metadata` into the feedback record). Returns the record and the user's `correction`.
    public static func feedback(_ record: JSONObject, location: RecordLocation,
                                settings: PairBuildingSettings) throws -> (record: JudgedRecord, correction: String?) {
        // Without a scale (older logs) the score is as given and --pass-threshold selects.
        let (score, passed) = try UserRating.outcome(ofFeedback: record)
        var judged = JudgedRecord(
            id: try optionalString(record, settings.idField) ?? location.description,
            question: try requiredString(record, settings.questionField),
            answer: try requiredString(record, settings.answerField),
            score: score, passed: passed)
        judged.topic = try topic(record.value(atPath: settings.topicField), field: settings.topicField, topics: settings.topics)
        let correction = try optionalString(record, "correction").flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        return (judged, correction)
    }

    private static func requiredString(_ record: JSONObject, _ field: String) throws -> String {
        guard let value = record[field] else { throw RecordError("missing field '\(field)'") }
        guard let text = value.string else {
            throw RecordError("field '\(field)' must be a string, found \(value.kindName)")
        }
        guard !text.allSatisfy(\.isWhitespace) else { throw RecordError("field '\(field)' is empty") }
        return text
    }

    private static func optionalString(_ record: JSONObject, _ field: String) throws -> String? {
        switch record[field] {
        case nil, .null?: return nil
        case let .string(text)?: return text
        case let .number(number)? where number.isInteger: return number.text
        case let value?: throw RecordError("field '\(field)' must be a string, found \(value.kindName)")
        }
    }

    private static func topic(_ value: JSONValue?, field: String, topics: PolicyTopics) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case let .string(text)?:
            guard topics.scope(of: text) != nil else {
                throw RecordError("field '\(field)' is '\(text)', expected \(topics.expected)")
            }
            return text
        case let value?:
            throw RecordError("field '\(field)' must be a string, found \(value.kindName)")
        }
    }
}
