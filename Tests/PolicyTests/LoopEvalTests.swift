import Records
import Testing
import TestSupport
import Policy

/// `loop-eval` as the loop's scripts run it.
@Suite struct LoopEvalTests {
    let refusal = DomainPolicy.banking.refusal.text

    func files(_ dir: TemporaryDirectory, current: [JSONObject], candidate: [JSONObject]) throws -> [String] {
        [try dir.write("current.jsonl", records: current), try dir.write("candidate.jsonl", records: candidate)]
    }

    @Test func theGatePromotesWithStatusZeroAndKeepsWithOne() async throws {
        let dir = try TemporaryDirectory()
        let base = [judged("banking", answer: "Use the app.", pass: false), judged("off_topic", answer: "Paris.", pass: true)]
        let better = [judged("banking", answer: "Use the app.", pass: true), judged("off_topic", answer: refusal, pass: true)]
        let paths = try files(dir, current: base, candidate: better)
        let promoted = try await runTool("loop-eval", ["gate"] + paths + ["--policy", bankingPolicyPath])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        let record = try #require(promoted.records.first)
        #expect(promoted.records.count == 1)
        #expect(record["promote"] == true && record["reason"] == "better pass rate, banking still answered")
        #expect(record.value(atPath: "current.pass_rate") == 0.0 && record.value(atPath: "candidate.pass_rate") == 1.0)
        #expect(record["max_false_refusal"] == 0.2 && record["policy"] == "banking")

        let kept = try await runTool("loop-eval", ["gate", paths[1], paths[0]])
        #expect(kept.status == 1 && kept.records.first?["promote"] == false)
        // Refusing everything: every off-topic question passes, and the bounds keep it out.
        let refuser = try dir.write("refuser.jsonl", records: [judged("banking", answer: refusal, pass: false),
                                                                 judged("off_topic", answer: refusal, pass: true)])
        let refusing = try await runTool("loop-eval", ["gate", paths[0], refuser])
        #expect(refusing.status == 1)
        #expect(refusing.records.first?["reason"]
            == "refuses 1.0 of banking questions (bound 0.2); refuses 1.0 of banking questions, the current model 0.0")
        let judgeOnly = try await runTool("loop-eval", ["gate", paths[0], refuser, "--judge-only", "--max-false-refusal", "1"])
        #expect(judgeOnly.records.first?["pass_rate_from"] == "judge" && judgeOnly.records.first?["max_false_refusal"] == 1.0)
    }

    /// Every bad record of both files is reported with its file and line; nothing is printed.
    @Test func badInputIsNamedAndExitsTwo() async throws {
        let dir = try TemporaryDirectory()
        let current = try dir.write("current.jsonl", lines: [#"{"topic": "banking", "answer": "a"}"#, "not json"])
        let candidate = try dir.write("candidate.jsonl", records: [["topic": "sports", "answer": "a"]])
        let run = try await runTool("loop-eval", ["gate", current, candidate])
        #expect(run.status == 2 && run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(run.stderr)")
        #expect(lines.first?.hasPrefix("loop-eval: error: ") == true && lines.first?.hasSuffix("(\(current):line 2)") == true)
        #expect(lines.last == "loop-eval: error: field 'topic' is 'sports', expected 'banking' or 'off_topic' (\(candidate):line 1)")
    }

    /// A script that lost its subcommand must not read exit 0 as "promote" or "roll back".
    @Test func noSubcommandIsAUsageError() async throws {
        let run = try await runTool("loop-eval", [])
        #expect(run.status == 2 && run.stdout.isEmpty)
        #expect(run.stderr.contains("give a subcommand: gate, rollback or figures"), "\(run.stderr)")
        #expect(try await runTool("loop-eval", ["--help"]).status == 0)
    }

    @Test func aBadPolicyFileIsNamedAndExitsTwo() async throws {
        let dir = try TemporaryDirectory()
        let policy = try dir.write("policy.json", lines: [#"{"name": "x", "metric": "m", "topics": {"in_scope": ["a"], "out_of_scope": ["b"]}, "refusal": {"text": "No.", "phrases": []}, "gate": {"max_false_refusal_rate": 0.2, "max_false_refusal_increase": 0.1}}"#])
        let input = try dir.write("in.jsonl", records: [judged("a", answer: "x", pass: true)])
        for arguments in [["gate", input, input], ["figures", input]] {
            let run = try await runTool("loop-eval", arguments + ["--policy", policy])
            #expect(run.status == 2)
            #expect(run.stderr == "loop-eval: error: \(policy): field 'refusal.phrases': is empty: list at least one phrase\n")
        }
    }

    /// The traffic figures scripts/loop-report shows: labels from the request's metadata, a record
    /// without one counted as unknown and scored by the judge alone.
    @Test func figuresCountTrafficPerTopic() async throws {
        var served = judged(nil, answer: refusal, pass: true)
        served["metadata"] = ["topic": "off_topic"]
        var answered = judged(nil, answer: "Use the app.", pass: true)
        answered["metadata"] = ["topic": "banking"]
        let unlabelled = judged(nil, answer: "Hello.", pass: true)
        let run = try await runTool("loop-eval", ["figures", "--topic-field", "metadata.topic"],
                                    stdin: jsonl([served, answered, unlabelled]))
        #expect(run.status == 0, "\(run.stderr)")
        let figures = try #require(run.records.first)
        #expect(figures["by_topic"] == [
            "banking": ["questions": 1, "judged": 1, "passed": 1, "judge_passed": 1, "refused": 0],
            "off_topic": ["questions": 1, "judged": 1, "passed": 1, "judge_passed": 1, "refused": 1],
            "unknown": ["questions": 1, "judged": 1, "passed": 1, "judge_passed": 1, "refused": 0],
        ])
        let bad = try await runTool("loop-eval", ["figures"], stdin: jsonl([judged("banking", answer: "a", pass: true)]) + "[]\n")
        #expect(bad.status == 1 && bad.records.first?["questions"] == 1)
        #expect(bad.stderr.contains("(stdin:line 2)"))
    }
}
