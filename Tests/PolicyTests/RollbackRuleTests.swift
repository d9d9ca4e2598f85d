import Records
import Testing
import TestSupport
@testable import Evaluation
import Policy

@Suite struct RollbackRuleTests {
    let rule = RollbackRule(thresholds: RollbackThresholds(maxPassRateDrop: 0.1, minRecords: 10), policy: DomainPolicy.banking)

    func window(_ pass: Double?, _ falseRefusals: Double?, judged: Int = 12) -> RollbackRule.Window {
        RollbackRule.Window(passRate: pass, falseRefusalRate: falseRefusals, judged: judged)
    }

    @Test func aModelNoWorseOnTheTrafficIsKept() {
        let decision = rule.decide(before: window(0.5, 0.0), after: window(0.9, 0.0))
        #expect(!decision.rollback && decision.reasons.isEmpty)
        #expect(decision.reason == "no worse on the traffic: kept")
        // A fall of exactly the margin keeps it; the drop is compared as reported (rounded), so
        // 0.9 - 0.8 (0.09999999999999998 in binary) is the margin, not under it.
        #expect(!rule.decide(before: window(0.9, 0.0), after: window(0.8, 0.0)).rollback)
        #expect(!rule.decide(before: window(0.8, 0.0), after: window(0.7, 0.0)).rollback)
    }

    @Test func aFallOfMoreThanTheMarginRollsBack() {
        let decision = rule.decide(before: window(0.9, 0.0), after: window(0.7999, 0.0))
        #expect(decision.rollback)
        #expect(decision.reason == "pass rate fell from 0.9 to 0.7999 (more than 0.1)")
    }

    /// The gate promised at most 20% of banking questions refused; live traffic that breaks it
    /// rolls back even when the pass rate rose (off-topic questions refused make up for it).
    @Test func refusingMoreInScopeQuestionsThanTheGateAllowsRollsBack() {
        let decision = rule.decide(before: window(0.5, 0.0), after: window(0.75, 0.25))
        #expect(decision.rollback)
        #expect(decision.reason == "refuses 0.25 of banking questions (bound 0.2)")
        #expect(!rule.decide(before: window(0.5, 0.0), after: window(0.75, 0.2)).rollback, "at the bound is allowed")
        let both = rule.decide(before: window(1.0, 0.0), after: window(0.5, 0.5))
        #expect(both.reasons == ["pass rate fell from 1.0 to 0.5 (more than 0.1)", "refuses 0.5 of banking questions (bound 0.2)"])
    }

    @Test func tooFewRecordsAfterTheDeployKeepIt() {
        let decision = rule.decide(before: window(1.0, 0.0), after: window(0.0, 1.0, judged: 9))
        #expect(!decision.rollback)
        #expect(decision.reason == "9 judged records after the deploy, fewer than 10: kept")
        #expect(rule.decide(before: window(1.0, 0.0), after: window(0.0, 1.0, judged: 10)).rollback)
    }

    /// No judged record before the deploy: nothing to compare the pass rate with, but the gate's
    /// bound still holds.
    @Test func noPassRateBeforeComparesOnlyRefusals() {
        #expect(!rule.decide(before: window(nil, nil, judged: 0), after: window(0.1, 0.0)).rollback)
        #expect(rule.decide(before: window(nil, nil, judged: 0), after: window(0.1, 0.5)).rollback)
    }

    /// From the figures of judged answers, as `loop-eval rollback` reads them.
    @Test func decidesOnTheFiguresOfJudgedAnswers() {
        func answer(_ scope: TopicScope, refused: Bool, judgePassed: Bool) -> EvaluatedAnswer {
            EvaluatedAnswer(topic: scope == .inScope ? "banking" : "off_topic", scope: scope, isJudged: true,
                            judgePassed: judgePassed, refused: refused)
        }
        let good = Array(repeating: answer(.inScope, refused: false, judgePassed: true), count: 6)
            + Array(repeating: answer(.outOfScope, refused: true, judgePassed: true), count: 6)
        // After the deploy the model answers off-topic questions again (the judge even passes them).
        let bad = Array(repeating: answer(.inScope, refused: false, judgePassed: true), count: 6)
            + Array(repeating: answer(.outOfScope, refused: false, judgePassed: true), count: 6)
        let topics = DomainPolicy.banking.topics
        let before = EvaluationFigures(answers: good, topics: topics), after = EvaluationFigures(answers: bad, topics: topics)
        let decision = rule.decide(before: before, after: after)
        #expect(decision.reason == "pass rate fell from 1.0 to 0.5 (more than 0.1)")
        let record = decision.record(rule: rule, policy: "banking", before: before, after: after)
        #expect(record["rollback"] == true && record["min_records"] == 10 && record["max_pass_rate_drop"] == 0.1)
        #expect(record["max_false_refusal"] == 0.2 && record.value(atPath: "after.pass_rate") == 0.5)
    }
}

/// `loop-eval rollback` as scripts/loop runs it.
@Suite struct LoopEvalRollbackTests {
    let refusal = DomainPolicy.banking.refusal.text

    func traffic(passing: Int, failing: Int) -> [JSONObject] {
        var records: [JSONObject] = []
        for n in 0..<(passing + failing) {
            var record = judged(nil, answer: n < passing ? refusal : "Paris, of course.", pass: true)
            record["metadata"] = ["topic": "off_topic"]
            records.append(record)
        }
        return records
    }

    @Test func rollsBackWithStatusZeroAndKeepsWithOne() async throws {
        let dir = try TemporaryDirectory()
        let before = try dir.write("before.jsonl", records: traffic(passing: 12, failing: 0))
        let after = try dir.write("after.jsonl", records: traffic(passing: 6, failing: 6))
        let arguments = ["--topic-field", "metadata.topic", "--max-pass-rate-drop", "0.1", "--min-records", "10",
                         "--policy", bankingPolicyPath]
        let back = try await runTool("loop-eval", ["rollback", before, after] + arguments)
        #expect(back.status == 0, "\(back.stderr)")
        let record = try #require(back.records.first)
        #expect(back.records.count == 1)
        #expect(record["rollback"] == true && record["reason"] == "pass rate fell from 1.0 to 0.5 (more than 0.1)")
        #expect(record.value(atPath: "before.pass_rate") == 1.0 && record.value(atPath: "after.judged") == 12)

        let kept = try await runTool("loop-eval", ["rollback", after, before] + arguments)
        #expect(kept.status == 1 && kept.records.first?["rollback"] == false)
        let few = try await runTool("loop-eval", ["rollback", before, after] + arguments.dropLast(4) + ["--min-records", "13"])
        #expect(few.status == 1 && few.records.first?["reason"] == "12 judged records after the deploy, fewer than 13: kept")
    }

    @Test func badInputAndBadBoundsExitTwo() async throws {
        let dir = try TemporaryDirectory()
        let good = try dir.write("good.jsonl", records: traffic(passing: 1, failing: 0))
        let bad = try dir.write("bad.jsonl", lines: [#"{"answer": 3}"#])
        let run = try await runTool("loop-eval", ["rollback", good, bad, "--max-pass-rate-drop", "0.1", "--min-records", "1"])
        #expect(run.status == 2 && run.stdout.isEmpty)
        #expect(run.stderr.contains("(\(bad):line 1)"), "\(run.stderr)")
        for bounds in [["--max-pass-rate-drop", "1.5", "--min-records", "1"], ["--max-pass-rate-drop", "0.1", "--min-records", "0"],
                       ["--min-records", "1"]] {
            let usage = try await runTool("loop-eval", ["rollback", good, good] + bounds)
            #expect(usage.status != 0 && usage.stdout.isEmpty, "\(bounds)")
        }
    }
}
