import Records
import Testing
import TestSupport
import Policy

/// Another deployment, with other topics, another metric and another refusal, runs through the same
/// gate and pair building with nothing but its policy file: no code knows about banking.
@Suite struct SecondPolicyTests {
    static let policyText = #"""
    {
      "name": "cooking-school",
      "metric": "stay_in_the_kitchen",
      "topics": {"in_scope": ["recipes", "techniques"], "out_of_scope": ["other"]},
      "refusal": {
        "text": "Sorry, this kitchen only talks about cooking.",
        "phrases": ["only talks about cooking"],
        "patterns": ["\\bcannot discuss (that|this)\\b"]
      },
      "gate": {"max_false_refusal_rate": 0.5, "max_false_refusal_increase": 0.25}
    }
    """#
    static let refusal = "Sorry, this kitchen only talks about cooking."
    static let metric = "stay_in_the_kitchen"

    func answer(_ topic: String, _ text: String, pass: Bool, question: String = "q") -> JSONObject {
        var record = judged(topic, answer: text, pass: pass, metric: Self.metric)
        record["question"] = .string(question)
        return record
    }

    @Test func theGateReadsTheOtherPolicy() async throws {
        let dir = try TemporaryDirectory()
        let policy = try dir.write("policy.json", lines: [Self.policyText])
        let current = try dir.write("current.jsonl", records: [
            answer("recipes", "Whisk the eggs first.", pass: true), answer("techniques", "Fold it.", pass: false),
            answer("other", "The match ended 2-1.", pass: true), answer("other", "It will rain.", pass: false),
        ])
        // Refuses one of two in-scope questions: within the 0.5 bound, 50 points over the current model.
        let refusing = try dir.write("refusing.jsonl", records: [
            answer("recipes", "Whisk the eggs first.", pass: true), answer("techniques", "I cannot discuss that.", pass: false),
            answer("other", Self.refusal, pass: true), answer("other", "I CANNOT discuss this!", pass: false),
        ])
        let answering = try dir.write("answering.jsonl", records: [
            answer("recipes", "Whisk the eggs first.", pass: true), answer("techniques", "Fold gently with a spatula.", pass: true),
            answer("other", Self.refusal, pass: false), answer("other", "Sorry, this kitchen only talks about cooking!", pass: true),
        ])
        let kept = try await runTool("loop-eval", ["gate", current, refusing, "--policy", policy])
        #expect(kept.status == 1, "\(kept.stderr)")
        let keptRecord = try #require(kept.records.first)
        #expect(keptRecord["reason"] == "refuses 0.5 of recipes or techniques questions, the current model 0.0")
        #expect(keptRecord.value(atPath: "candidate.pass_rate") == 0.75 && keptRecord.value(atPath: "current.pass_rate") == 0.25)
        #expect(keptRecord.value(atPath: "candidate.other_refusal_rate") == 1.0)
        #expect(keptRecord.value(atPath: "candidate.recipes_refusal_rate") == 0.0)
        #expect(keptRecord.value(atPath: "candidate.techniques_refusal_rate") == 1.0)
        #expect(keptRecord["max_false_refusal"] == 0.5 && keptRecord["max_false_refusal_increase"] == 0.25)

        let promoted = try await runTool("loop-eval", ["gate", current, answering, "--policy", policy])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        #expect(promoted.records.first?["reason"] == "better pass rate, recipes or techniques still answered")
        #expect(promoted.records.first?.value(atPath: "candidate.pass_rate") == 1.0)

        // The bank's labels mean nothing to this policy.
        let banking = try dir.write("banking.jsonl", records: [answer("banking", "Use the app.", pass: true)])
        let wrong = try await runTool("loop-eval", ["gate", banking, banking, "--policy", policy])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("field 'topic' is 'banking', expected 'recipes', 'techniques' or 'other' (\(banking):line 1)"))
    }

    @Test func orpoPairsTeachesTheOtherRefusal() async throws {
        let dir = try TemporaryDirectory()
        let policy = try dir.write("policy.json", lines: [Self.policyText])
        let traffic = try dir.write("traffic.jsonl", records: [
            answer("other", "Sure: the capital of Peru is Lima.", pass: false, question: "What is the capital of Peru?"),
            answer("recipes", "Boil it for an hour.", pass: false, question: "How long do I boil an egg?"),
            answer("techniques", "Fold gently.", pass: true, question: "How do I fold egg whites?"),
        ])
        let reference = try dir.write("reference.jsonl", records: [
            ["prompt": "How long do I boil an egg?", "chosen": "About 7 minutes for a firm yolk.", "rejected": "An hour."],
        ])
        let run = try await runTool("orpo-pairs", [traffic, "--policy", policy, "--reference", reference, "--no-shuffle"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.records.map { $0["chosen"] } == [.string(Self.refusal), "About 7 minutes for a firm yolk."])
        #expect(run.records.map { $0["chosen_from"] } == ["refusal_policy", "reference"])
        #expect(run.records.map { $0["topic"] } == ["other", "recipes"])

        // A label of another policy is reported, with the policy's own labels.
        let banking = try dir.write("banking.jsonl", records: [answer("banking", "No.", pass: false, question: "Card?")])
        let wrong = try await runTool("orpo-pairs", [banking, "--policy", policy])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("field 'topic' is 'banking', expected 'recipes', 'techniques' or 'other' (\(banking):line 1)"))
    }

    @Test func orpoPairsNamesABadPolicyFile() async throws {
        let dir = try TemporaryDirectory()
        let policy = try dir.write("policy.json", lines: [#"{"name": "x"}"#])
        let traffic = try dir.write("traffic.jsonl", records: [answer("other", "x", pass: false)])
        let run = try await runTool("orpo-pairs", [traffic, "--policy", policy])
        #expect(run.status == 2 && run.stdout.isEmpty)
        #expect(run.stderr == "orpo-pairs: error: \(policy): field 'metric': missing\n")
    }
}
