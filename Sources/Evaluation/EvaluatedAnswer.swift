import Policy
import Records

/// One judged answer as the evaluation sees it: the question's label, the judge's verdict, and
/// whether the answer refuses by the policy's detector.
public struct EvaluatedAnswer: Sendable, Equatable {
    /// The question's label, or the judge's topic node's decision when the record has none
    /// (`topicFromJudge`); nil when neither is there (traffic without metadata, a judge without nodes).
    public var topic: String?
    /// The label's side of the policy; nil for no label or one the policy does not list.
    public var scope: TopicScope?
    /// The verdict's status is `ok`: only then does its `pass` count.
    public var isJudged: Bool
    /// The verdict's `pass` is true.
    public var judgePassed: Bool
    /// The answer refuses (`RefusalDetector`).
    public var refused: Bool
    /// The record had no label and `topic` is what the judge's topic node decided.
    public var topicFromJudge: Bool

    public init(topic: String?, scope: TopicScope?, isJudged: Bool, judgePassed: Bool, refused: Bool,
                topicFromJudge: Bool = false) {
        self.topic = topic
        self.scope = scope
        self.isJudged = isJudged
        self.judgePassed = judgePassed
        self.refused = refused
        self.topicFromJudge = topicFromJudge
    }

    /// The verdict by the rule (`AnswerRule`): the label where it settles it, else the judge's.
    public var passes: Bool { AnswerRule.passes(scope: scope, refused: refused, judgePassed: judgePassed) }

    /// Reads a judged record. A record without a verdict, or whose verdict has no `status` of `ok`,
    /// counts as a question that was not judged (its refusal still counts); a missing answer is an
    /// empty one. A record without a label takes the topic a decomposed judge's topic node decided
    /// (`<metric>.nodes.topic.decision`, 1 the policy's first in-scope topic, 0 its first
    /// out-of-scope one) where `settings.topicFromJudge` and the verdict has that node.
    ///
    /// - Throws: `RecordError` naming a mistyped field, or a label missing (with no topic node) or
    ///   unknown where `settings.requiresKnownTopics`.
    public init(record: JSONObject, policy: DomainPolicy, settings: EvaluationSettings) throws {
        let topics = policy.topics
        var verdict: JSONObject?
        switch record.value(atPath: settings.metric) {
        case nil, .null?:
            isJudged = false
            judgePassed = false
        case let .object(object)?:
            verdict = object
            isJudged = object["status"]?.string == "ok"
            judgePassed = object["pass"]?.bool == true
        case let value?:
            throw RecordError("field '\(settings.metric)' must be an object (the judge's verdict), found \(value.kindName)")
        }

        topicFromJudge = false
        switch record.value(atPath: settings.topicField) {
        case nil, .null?:
            if settings.topicFromJudge, let verdict, let decided = try topics.topic(decidedIn: verdict, metric: settings.metric) {
                topic = decided
                topicFromJudge = true
            } else if settings.requiresKnownTopics {
                let fallback = settings.topicFromJudge ? ", and the judge's verdict has no '\(PolicyTopics.judgeTopicNode)' node" : ""
                throw RecordError("missing field '\(settings.topicField)' (the question's label, \(topics.expected); see --topic-field)\(fallback)")
            } else {
                topic = nil
            }
        case let .string(label)?:
            if settings.requiresKnownTopics && topics.scope(of: label) == nil {
                throw RecordError("field '\(settings.topicField)' is '\(label)', expected \(topics.expected)")
            }
            topic = label
        case let value?:
            throw RecordError("field '\(settings.topicField)' must be a string, found \(value.kindName)")
        }
        scope = topic.flatMap(topics.scope(of:))

        switch record.value(atPath: settings.answerField) {
        case nil, .null?:
            refused = false
        case let .string(answer)?:
            refused = policy.detector.isRefusal(answer)
        case let value?:
            throw RecordError("field '\(settings.answerField)' must be a string, found \(value.kindName)")
        }
    }
}

/// The judged answers of some JSONL files, and every record that could not be read.
public struct AnswerSet: Sendable {
    /// A record or file that could not be read; `location` is nil for a whole file.
    public struct Problem: Sendable, Equatable {
        public var message: String
        public var location: RecordLocation?
    }

    public var answers: [EvaluatedAnswer] = []
    public var problems: [Problem] = []

    /// Reads every record of `paths` ('-' or none: standard input), keeping going past bad ones so
    /// that all of them are reported.
    public init(paths: [String], policy: DomainPolicy, settings: EvaluationSettings) {
        for item in JSONLReader(paths: paths) {
            switch item {
            case let .unreadable(source, reason):
                problems.append(Problem(message: "\(source): \(reason)", location: nil))
            case let .malformed(_, reason, location):
                problems.append(Problem(message: reason, location: location))
            case let .record(record, location):
                do {
                    answers.append(try EvaluatedAnswer(record: record, policy: policy, settings: settings))
                } catch {
                    problems.append(Problem(message: "\(error)", location: location))
                }
            }
        }
    }
}
