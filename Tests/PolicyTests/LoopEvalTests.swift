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

    /// A record without a label takes the topic the node judge's topic node decided, so traffic
    /// without metadata is scored by the rule: an off-topic answer the judge passed still fails
    /// when it does not refuse, and a refused banking question counts as a false refusal (which the
    /// rollback rule bounds).
    @Test func figuresTakeAnUnlabelledRecordsTopicFromTheJudgesTopicNode() async throws {
        func noded(_ label: String?, answer: String, pass: Bool, topicDecision: JSONValue) -> JSONObject {
            var record = judged(label, answer: answer, pass: pass)
            record["restrict_to_banking"] = ["score": pass ? 1 : 0, "status": "ok", "pass": .bool(pass),
                                             "nodes": ["topic": ["p": 0.9, "decision": topicDecision]]]
            return record
        }
        let records = [
            noded(nil, answer: "Paris is the capital.", pass: true, topicDecision: 0),
            noded(nil, answer: refusal, pass: false, topicDecision: 1),
            noded(nil, answer: "Use the app.", pass: true, topicDecision: 1),
            noded("off_topic", answer: refusal, pass: true, topicDecision: 1),
        ]
        let run = try await runTool("loop-eval", ["figures"], stdin: jsonl(records))
        #expect(run.status == 0, "\(run.stderr)")
        let figures = try #require(run.records.first)
        #expect(figures["topics_from_judge"] == 3)
        #expect(figures["by_topic"] == [
            "banking": ["questions": 2, "judged": 2, "passed": 1, "judge_passed": 1, "refused": 1],
            "off_topic": ["questions": 2, "judged": 2, "passed": 1, "judge_passed": 2, "refused": 1],
        ])
        #expect(figures["pass_rate"] == 0.5 && figures["judge_pass_rate"] == 0.75)
        #expect(figures["false_refusal_rate"] == 0.5)

        let off = try await runTool("loop-eval", ["figures", "--no-judge-topic"], stdin: jsonl(records))
        #expect(off.records.first?["topics_from_judge"] == 0)
        #expect(off.records.first?.value(atPath: "by_topic.unknown.questions") == 3)

        // The rollback rule reads the judge's topic as figures does; the gate needs labels (a
        // question's topic must not depend on which model's file it is read from).
        let dir = try TemporaryDirectory()
        let window = try dir.write("window.jsonl", records: Array(records.prefix(3)))
        let rollback = try await runTool("loop-eval", ["rollback", window, window, "--max-pass-rate-drop", "0.1", "--min-records", "1"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.records.first?.value(atPath: "after.by_topic.banking.refused") == 1)
        #expect(rollback.records.first?["reason"]?.string?.contains("banking questions") == true, "\(rollback.stdout)")
        let gate = try await runTool("loop-eval", ["gate", window, window])
        #expect(gate.status == 2 && gate.stdout.isEmpty)
        #expect(gate.stderr.contains("missing field 'topic' (the question's label, 'banking' or 'off_topic'; see --topic-field) (\(window):line 1)"), "\(gate.stderr)")

        // A topic node that is there but broken is named, never read as no node.
        var noNodes = judged(nil, answer: "a", pass: true)
        noNodes["restrict_to_banking"] = ["status": "ok", "pass": true, "nodes": []]
        var noDecision = judged(nil, answer: "a", pass: true)
        noDecision["restrict_to_banking"] = ["status": "ok", "pass": true, "nodes": ["topic": ["p": 0.9]]]
        var textNode = judged(nil, answer: "a", pass: true)
        textNode["restrict_to_banking"] = ["status": "ok", "pass": true, "nodes": ["topic": "banking"]]
        let broken = [noded(nil, answer: "a", pass: true, topicDecision: 2), noded(nil, answer: "a", pass: true, topicDecision: .null),
                      noded(nil, answer: "a", pass: true, topicDecision: "1"), noNodes, noDecision, textNode]
        let wrong = try await runTool("loop-eval", ["figures"], stdin: jsonl(broken))
        #expect(wrong.status == 1 && wrong.records.first?["questions"] == 0)
        let messages = wrong.stderr.split(separator: "\n").map(String.init)
        #expect(messages == [
            "loop-eval: error: field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found 2 (stdin:line 1)",
            "loop-eval: error: field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found null (stdin:line 2)",
            "loop-eval: error: field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found \"1\" (stdin:line 3)",
            "loop-eval: error: field 'restrict_to_banking.nodes' must be an object, found array (stdin:line 4)",
            "loop-eval: error: field 'restrict_to_banking.nodes.topic.decision' is missing (stdin:line 5)",
            "loop-eval: error: field 'restrict_to_banking.nodes.topic' must be an object with 'decision' 0 or 1, found string (stdin:line 6)",
        ], "\(wrong.stderr)")
    }
}
