import Policy
import Records

/// The counts of one topic's answers.
public struct TopicCounts: Sendable, Equatable {
    /// Answers with this label.
    public var questions = 0
    /// Of those, answers the judge scored (status ok).
    public var judged = 0
    /// Judged answers that pass by the rule (`AnswerRule`).
    public var passed = 0
    /// Judged answers the judge passed.
    public var judgePassed = 0
    /// Answers that refuse, judged or not (refusal needs no judge).
    public var refused = 0

    public init() {}

    mutating func count(_ answer: EvaluatedAnswer) {
        questions += 1
        if answer.refused { refused += 1 }
        guard answer.isJudged else { return }
        judged += 1
        if answer.passes { passed += 1 }
        if answer.judgePassed { judgePassed += 1 }
    }

    var json: JSONObject {
        ["questions": JSONValue(questions), "judged": JSONValue(judged), "passed": JSONValue(passed),
         "judge_passed": JSONValue(judgePassed), "refused": JSONValue(refused)]
    }
}

/// What one model did on a set of judged answers: pass rates by the rule and by the judge, overall
/// and per topic, and refusal rates per topic. Rates are shares of judged answers, except refusal
/// rates, which are shares of all answers of a topic; each is rounded to 4 places (`Rate`) and nil
/// when there is nothing to count. Answers whose record has no label count under the topic the
/// judge's topic node decided, where it did (`topics_from_judge` says how many).
public struct EvaluationFigures: Sendable {
    /// The label under which answers without one are counted.
    public static let unlabelled = "unknown"

    public var questions: Int
    public var judged: Int
    /// By the rule, or by the judge alone when made with `judgeOnly`.
    public var passRate: Double?
    /// Per label present, labels sorted.
    public var passRateByTopic: [(topic: String, rate: Double?)]
    public var judgePassRate: Double?
    public var judgePassRateByTopic: [(topic: String, rate: Double?)]
    /// Per label of the policy, in scope first, present or not.
    public var refusalRateByTopic: [(topic: String, rate: Double?)]
    /// Refusals among the in-scope answers: what the gate bounds.
    public var falseRefusalRate: Double?
    /// Per label present, labels sorted.
    public var counts: [(topic: String, counts: TopicCounts)]
    /// Answers whose record had no label and took the judge's topic node's decision.
    public var topicsFromJudge: Int

    public init(answers: [EvaluatedAnswer], topics: PolicyTopics, judgeOnly: Bool = false) {
        var byTopic: [String: TopicCounts] = [:]
        var all = TopicCounts(), inScope = TopicCounts()
        for answer in answers {
            byTopic[answer.topic ?? Self.unlabelled, default: TopicCounts()].count(answer)
            all.count(answer)
            if answer.scope == .inScope { inScope.count(answer) }
        }
        let sorted = byTopic.sorted { $0.key < $1.key }
        func rate(_ c: TopicCounts) -> Double? { Rate.of(judgeOnly ? c.judgePassed : c.passed, in: c.judged) }
        questions = all.questions
        judged = all.judged
        passRate = rate(all)
        passRateByTopic = sorted.map { ($0.key, rate($0.value)) }
        judgePassRate = Rate.of(all.judgePassed, in: all.judged)
        judgePassRateByTopic = sorted.map { ($0.key, Rate.of($0.value.judgePassed, in: $0.value.judged)) }
        refusalRateByTopic = topics.all.map { topic in
            let c = byTopic[topic] ?? TopicCounts()
            return (topic, Rate.of(c.refused, in: c.questions))
        }
        falseRefusalRate = Rate.of(inScope.refused, in: inScope.questions)
        counts = sorted.map { ($0.key, $0.value) }
        topicsFromJudge = answers.count { $0.topicFromJudge }
    }

    /// As the gate and `loop-eval figures` write it. The names up to the refusal rates are those
    /// gate.json had when the gate was a Python script (scripts/gate-decision), which the loop and
    /// its report read; a refusal rate is named after its label (`banking_refusal_rate`,
    /// `off_topic_refusal_rate`).
    public var json: JSONObject {
        func rates(_ list: [(topic: String, rate: Double?)]) -> JSONValue {
            .object(JSONObject(list.map { ($0.topic, JSONValue($0.rate)) }))
        }
        var object: JSONObject = [
            "questions": JSONValue(questions), "judged": JSONValue(judged), "pass_rate": JSONValue(passRate),
            "pass_rate_by_topic": rates(passRateByTopic), "judge_pass_rate": JSONValue(judgePassRate),
            "judge_pass_rate_by_topic": rates(judgePassRateByTopic),
        ]
        for (topic, rate) in refusalRateByTopic { object["\(topic)_refusal_rate"] = JSONValue(rate) }
        object["false_refusal_rate"] = JSONValue(falseRefusalRate)
        object["by_topic"] = .object(JSONObject(counts.map { ($0.topic, .object($0.counts.json)) }))
        object["topics_from_judge"] = JSONValue(topicsFromJudge)
        return object
    }
}
