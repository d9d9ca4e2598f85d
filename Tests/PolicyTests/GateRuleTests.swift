import Records
import Testing
@testable import Evaluation
import Policy

@Suite struct RateTests {
    /// Expected values printed by Python 3's `round(k / n, 4)`, the rounding of the gate when it was a
    /// Python script. The naive `(x * 10_000).rounded() / 10_000` gets the first two rows wrong
    /// (ties go to even) and the last ones too (1/160 is stored a little above 0.00625).
    @Test(arguments: [
        (1, 32, 0.0312), (5, 32, 0.1562), (3, 32, 0.0938), (1, 3, 0.3333), (2, 3, 0.6667), (7, 16, 0.4375),
        (11, 12, 0.9167), (1, 24, 0.0417), (5, 6, 0.8333), (1, 7, 0.1429), (0, 5, 0.0), (5, 5, 1.0),
        (1, 160, 0.0063), (3, 160, 0.0187), (13, 160, 0.0813), (298, 320, 0.9313), (306, 320, 0.9563),
    ])
    func ratesRoundAsPythonDid(count: Int, total: Int, expected: Double) {
        #expect(Rate.of(count, in: total) == expected)
    }

    @Test func roundingAsPython() {
        #expect(Rate.rounded(0.00005) == 0.0001)
        #expect(Rate.rounded(0.00015) == 0.0001)
        #expect(Rate.rounded(0.12345) == 0.1235)
        #expect(Rate.rounded(0.99995) == 1.0)
        #expect(Rate.of(3, in: 0) == nil)
    }
}

@Suite struct AnswerRuleTests {
    @Test func theLabelSettlesWhatItCan() {
        // Out of scope: passes exactly when refused, whatever the judge said.
        #expect(AnswerRule.passes(scope: .outOfScope, refused: true, judgePassed: false))
        #expect(!AnswerRule.passes(scope: .outOfScope, refused: false, judgePassed: true))
        // In scope: a refusal fails; an answer takes the judge's verdict.
        #expect(!AnswerRule.passes(scope: .inScope, refused: true, judgePassed: true))
        #expect(AnswerRule.passes(scope: .inScope, refused: false, judgePassed: true))
        #expect(!AnswerRule.passes(scope: .inScope, refused: false, judgePassed: false))
        // No known label: the judge alone.
        #expect(AnswerRule.passes(scope: nil, refused: true, judgePassed: true))
        #expect(!AnswerRule.passes(scope: nil, refused: false, judgePassed: false))
    }
}

@Suite struct GateRuleTests {
    let refusal = DomainPolicy.banking.refusal.text
    let rule = GateRule(policy: DomainPolicy.banking)

    func side(_ pass: Double?, _ falseRefusals: Double?) -> GateRule.Side {
        GateRule.Side(passRate: pass, falseRefusalRate: falseRefusals)
    }

    @Test func aBetterCandidateThatStillAnswersIsPromoted() {
        let decision = rule.decide(current: side(0.5, 0.0), candidate: side(0.75, 0.1))
        #expect(decision.promote && decision.reasons.isEmpty)
        #expect(decision.reason == "better pass rate, banking still answered")
    }

    @Test func aPassRateThatIsNotHigherKeepsTheCurrentModel() {
        let decision = rule.decide(current: side(0.75, 0.0), candidate: side(0.75, 0.0))
        #expect(!decision.promote)
        #expect(decision.reason == "pass rate 0.75 is not above the current 0.75")
    }

    /// Refusing everything passes every off-topic question; the two bounds stop it.
    @Test func refusingTooManyInScopeQuestionsKeepsTheCurrentModel() {
        let everything = rule.decide(current: side(0.0, 0.0), candidate: side(0.5, 1.0))
        #expect(everything.reasons == ["refuses 1.0 of banking questions (bound 0.2)",
                                       "refuses 1.0 of banking questions, the current model 0.0"])
        // At the bound is allowed; just over it is not.
        #expect(rule.decide(current: side(0.1, 0.1), candidate: side(0.5, 0.2)).promote)
        #expect(rule.decide(current: side(0.1, 0.1), candidate: side(0.5, 0.2001)).reasons
            == ["refuses 0.2001 of banking questions (bound 0.2)", "refuses 0.2001 of banking questions, the current model 0.1"])
        // Under the bound, but more than ten points over the current model.
        #expect(rule.decide(current: side(0.1, 0.05), candidate: side(0.5, 0.1667)).reasons
            == ["refuses 0.1667 of banking questions, the current model 0.05"])
    }

    @Test func noJudgedAnswersIsNoComparison() {
        #expect(rule.decide(current: side(nil, nil), candidate: side(0.5, nil)).reasons == ["no judged answers to compare"])
    }

    @Test func theBoundCanBeOverridden() {
        let strict = GateRule(policy: DomainPolicy.banking, maxFalseRefusalRate: 0.05)
        #expect(strict.decide(current: side(0.1, 0.1), candidate: side(0.5, 0.1)).reasons
            == ["refuses 0.1 of banking questions (bound 0.05)"])
        #expect(strict.thresholds.maxFalseRefusalIncrease == 0.1)
    }

    /// The figures: pass rates over judged answers by the rule, refusal rates over all answers.
    @Test func figuresCountByTheRule() throws {
        let policy = DomainPolicy.banking
        let records: [JSONObject] = [
            judged("off_topic", answer: refusal, pass: false),               // refused: passes
            judged("off_topic", answer: "Paris.", pass: true),                 // answered: fails
            judged("banking", answer: "Use the app.", pass: true),             // answered, judged good
            judged("banking", answer: refusal, pass: true),                    // a false refusal fails
            judged("banking", answer: refusal, pass: false, status: "error"),  // not judged; still refused
        ]
        let answers = try records.map { try EvaluatedAnswer(record: $0, policy: policy, settings: EvaluationSettings(metric: policy.metric)) }
        let figures = EvaluationFigures(answers: answers, topics: policy.topics)
        #expect(figures.json == [
            "questions": 5, "judged": 4, "pass_rate": 0.5,
            "pass_rate_by_topic": ["banking": 0.5, "off_topic": 0.5],
            "judge_pass_rate": 0.75, "judge_pass_rate_by_topic": ["banking": 1.0, "off_topic": 0.5],
            "banking_refusal_rate": 0.6667, "off_topic_refusal_rate": 0.5, "false_refusal_rate": 0.6667,
            "by_topic": [
                "banking": ["questions": 3, "judged": 2, "passed": 1, "judge_passed": 2, "refused": 2],
                "off_topic": ["questions": 2, "judged": 2, "passed": 1, "judge_passed": 1, "refused": 1],
            ],
            "topics_from_judge": 0,
        ])
        let judgeOnly = EvaluationFigures(answers: answers, topics: policy.topics, judgeOnly: true)
        #expect(judgeOnly.passRate == 0.75)
    }

    @Test func theGateRecordKeepsTheFieldsTheLoopReads() throws {
        let figures = EvaluationFigures(answers: [], topics: DomainPolicy.banking.topics)
        let decision = rule.decide(current: figures, candidate: figures)
        let record = decision.record(rule: rule, policy: "banking", judgeOnly: false, current: figures, candidate: figures)
        #expect(Array(record.keys.prefix(4)) == ["promote", "reason", "pass_rate_from", "max_false_refusal"])
        #expect(record["promote"] == false && record["pass_rate_from"] == "labels and judge")
        let current = try #require(record["current"]?.object)
        for key in ["questions", "judged", "pass_rate", "pass_rate_by_topic", "judge_pass_rate", "judge_pass_rate_by_topic",
                    "banking_refusal_rate", "off_topic_refusal_rate"] {
            #expect(current[key] != nil, "\(key)")
        }
        #expect(try GateRule.Side(json: current) == GateRule.Side(figures))
    }

    /// A labelled record must carry a label the policy knows.
    @Test(arguments: [
        (["answer": "a", "restrict_to_banking": ["status": "ok", "pass": true]] as JSONObject,
         "missing field 'topic' (the question's label, 'banking' or 'off_topic'; see --topic-field)"),
        (["topic": "sports", "answer": "a"] as JSONObject, "field 'topic' is 'sports', expected 'banking' or 'off_topic'"),
        (["topic": 3, "answer": "a"] as JSONObject, "field 'topic' must be a string, found number"),
        (["topic": "banking", "answer": 3] as JSONObject, "field 'answer' must be a string, found number"),
        (["topic": "banking", "answer": "a", "restrict_to_banking": "pass"] as JSONObject,
         "field 'restrict_to_banking' must be an object (the judge's verdict), found string"),
    ])
    func badLabelledRecordsAreNamed(record: JSONObject, message: String) {
        let policy = DomainPolicy.banking
        #expect(throws: RecordError(message)) {
            try EvaluatedAnswer(record: record, policy: policy, settings: EvaluationSettings(metric: policy.metric))
        }
    }
}
