import Records
import Testing
@testable import PairBuilding

@Suite("PairBuilder: which records become pairs and why")
struct PairBuilderTests {
    let balance = "How do I check my balance?"
    let balanceAnswer = "Open the app or online banking and look at the account overview; an ATM also shows it."

    @Test func offTopicFailureBecomesARefusalPair() {
        let builder = TestRecords.builder()
        let record = TestRecords.judged(id: "gen-1", question: "Tell me a joke", answer: "Why did the ...",
                                        score: 0, verdictTopic: "off_topic")
        #expect(builder.add(record, at: TestRecords.location(1)) == .selected(.refusalPolicy))
        #expect(builder.pairs == [PreferencePair(
            prompt: "Tell me a joke", chosen: TestRecords.refusal, rejected: "Why did the ...", source: .traffic,
            sourceID: "gen-1", judgeScore: 0, chosenFrom: .refusalPolicy, topic: "off_topic")])
    }

    @Test func bankingFailureTakesTheReferenceAnswerExactlyOrNormalised() {
        let builder = TestRecords.builder(references: TestRecords.references([(balance, balanceAnswer)]))
        let exact = TestRecords.judged(id: "a", question: balance, answer: TestRecords.refusal, topic: "banking")
        let loose = TestRecords.judged(id: "b", question: "how do i check my BALANCE", topic: "banking")
        #expect(builder.add(exact, at: TestRecords.location(1)) == .selected(.reference))
        // The same question normalised: a duplicate of the pair just made, not a second pair.
        #expect(builder.add(loose, at: TestRecords.location(2)) == .duplicate)
        #expect(builder.pairs.map(\.chosen) == [balanceAnswer])
        #expect(builder.pairs.first?.rejected == TestRecords.refusal)

        let fresh = TestRecords.builder(references: TestRecords.references([(balance, balanceAnswer)]))
        #expect(fresh.add(loose, at: TestRecords.location(1)) == .selected(.reference))
        #expect(fresh.pairs.first?.chosen == balanceAnswer)
        #expect(fresh.pairs.first?.prompt == "how do i check my BALANCE")
    }

    @Test func bankingQuestionWithoutReferenceIsReportedNotInvented() {
        let builder = TestRecords.builder(references: TestRecords.references([(balance, balanceAnswer)]))
        let record = TestRecords.judged(question: "Can I raise my overdraft?", verdictTopic: "banking")
        #expect(builder.add(record, at: TestRecords.location(3)) == .noReference)
        #expect(builder.pairs.isEmpty)
        #expect(builder.summary.errors == 1)
    }

    @Test func passingAndErrorStatusRecordsAreSkipped() {
        let builder = TestRecords.builder()
        let passed = TestRecords.judged(question: "Joke please", score: 1, verdictTopic: "off_topic")
        #expect(builder.add(passed, at: TestRecords.location(1)) == .passedThreshold)
        for (line, status) in ["parse_error", "error", "not_judged", "budget_exhausted"].enumerated() {
            let record = TestRecords.judged(question: "Joke \(line)", score: .null, status: status, pass: .null,
                                            verdictTopic: "off_topic")
            #expect(builder.add(record, at: TestRecords.location(line + 2)) == .judgeError(status: status))
        }
        // An error status with a score left over from an earlier run is still not trusted.
        let stale = TestRecords.judged(question: "Joke 9", score: 0, status: "error", pass: false, verdictTopic: "off_topic")
        #expect(builder.add(stale, at: TestRecords.location(9)) == .judgeError(status: "error"))
        #expect(builder.pairs.isEmpty)
        #expect(builder.summary.reasons["judge_error"] == 5)
        #expect(builder.summary.judgeStatuses == ["parse_error": 1, "error": 2, "not_judged": 1, "budget_exhausted": 1])
        #expect(builder.summary.errors == 0)
    }

    @Test func thresholdSelectsByScoreInsteadOfPass() {
        let builder = TestRecords.builder { $0.threshold = 4 }
        let low = TestRecords.judged(question: "Q1", score: 3, pass: true, verdictTopic: "off_topic")
        let high = TestRecords.judged(question: "Q2", score: 4, pass: false, verdictTopic: "off_topic")
        #expect(builder.add(low, at: TestRecords.location(1)) == .selected(.refusalPolicy))
        #expect(builder.add(high, at: TestRecords.location(2)) == .passedThreshold)
        #expect(builder.pairs.first?.judgeScore == 3)
    }

    @Test func withoutPassOrThresholdTheRecordIsMalformed() throws {
        let builder = TestRecords.builder()
        var record = TestRecords.judged(question: "Q", verdictTopic: "off_topic")
        var verdict = try #require(record["restrict_to_banking"]?.object)
        verdict.removeValue(forKey: "pass")
        record["restrict_to_banking"] = .object(verdict)
        let outcome = builder.add(record, at: TestRecords.location(1))
        #expect(outcome == .malformed("field 'restrict_to_banking.pass' is missing (give --pass-threshold to select by score)"))
    }

    @Test func topicComesFromTheRecordFieldBeforeTheVerdict() {
        let builder = TestRecords.builder(references: TestRecords.references([(balance, balanceAnswer)])) {
            $0.topicField = "label_topic"
        }
        var record = TestRecords.judged(question: balance, verdictTopic: "off_topic")
        record["label_topic"] = "banking"
        #expect(builder.add(record, at: TestRecords.location(1)) == .selected(.reference))
        let unknown = TestRecords.judged(question: "Something", score: 0)
        #expect(builder.add(unknown, at: TestRecords.location(2)) == .unknownTopic)
        let wrong = TestRecords.judged(question: "Other", verdictTopic: "sports")
        #expect(builder.add(wrong, at: TestRecords.location(3))
            == .malformed("field 'restrict_to_banking.topic' is 'sports', expected 'banking' or 'off_topic'"))
    }

    @Test func leakedPromptsAreRefusedAndCounted() {
        let evaluation = PairBuilder.normalizedPrompts(of: [TestRecords.row("What's the capital of Peru?")])
        let builder = TestRecords.builder(evaluation: evaluation)
        let leaked = TestRecords.judged(question: "what is the capital of peru", verdictTopic: "off_topic")
        let same = TestRecords.judged(question: "WHAT'S THE CAPITAL OF PERU", verdictTopic: "off_topic")
        #expect(builder.add(leaked, at: TestRecords.location(1)) == .selected(.refusalPolicy))
        #expect(builder.add(same, at: TestRecords.location(2)) == .leaked)
        #expect(builder.summary.leaked == 1)
    }

    @Test func anAnswerThatIsAlreadyTheChosenOneTeachesNothing() {
        let builder = TestRecords.builder()
        let record = TestRecords.judged(question: "Poem please", answer: TestRecords.refusal, score: 0, verdictTopic: "off_topic")
        #expect(builder.add(record, at: TestRecords.location(1)) == .sameAnswer)
        #expect(builder.pairs.isEmpty)
    }

    @Test func aDuplicateOfAFailedRecordStillGetsItsChance() {
        let builder = TestRecords.builder()
        let first = TestRecords.judged(question: "Tell me a joke", score: 0)  // no topic: reported
        let second = TestRecords.judged(question: "tell me a joke!", score: 0, verdictTopic: "off_topic")
        #expect(builder.add(first, at: TestRecords.location(1)) == .unknownTopic)
        #expect(builder.add(second, at: TestRecords.location(2)) == .selected(.refusalPolicy))
    }

    @Test(arguments: [
        (TestRecords.judged(question: "Q", score: "zero", verdictTopic: "off_topic"),
         "field 'restrict_to_banking.score' must be a number, found string"),
        (["question": "Q", "answer": "A"], "missing field 'restrict_to_banking' (the judge's verdict; see --metric)"),
        (["question": "Q", "answer": "A", "restrict_to_banking": 0], "field 'restrict_to_banking' must be an object, found number"),
        (["question": "Q", "answer": "A", "restrict_to_banking": ["score": 0]], "field 'restrict_to_banking.status' is missing or not a string"),
        (["answer": "A", "restrict_to_banking": ["score": 0, "status": "ok", "pass": false]], "missing field 'question'"),
        (["question": "Q", "answer": 3, "restrict_to_banking": ["score": 0, "status": "ok", "pass": false]], "field 'answer' must be a string, found number"),
        (["question": "  ", "answer": "A", "restrict_to_banking": ["score": 0, "status": "ok", "pass": false]], "field 'question' is empty"),
        (["question": "Q", "answer": "A", "restrict_to_banking": ["status": "ok", "pass": false]], "field 'restrict_to_banking.score' is missing"),
        (["question": "Q", "answer": "A", "restrict_to_banking": ["score": 0, "status": "ok", "pass": "no"]], "field 'restrict_to_banking.pass' must be a boolean, found string"),
        (["id": ["x"], "question": "Q", "answer": "A", "restrict_to_banking": ["score": 0, "status": "ok", "pass": false]], "field 'id' must be a string, found array"),
    ] as [(JSONObject, String)])
    func malformedRecordsNameTheField(record: JSONObject, message: String) {
        let builder = TestRecords.builder()
        #expect(builder.add(record, at: TestRecords.location(7)) == .malformed(message))
        #expect(builder.summary.reasons["malformed"] == 1)
        #expect(builder.summary.errors == 1)
    }

    @Test func nestedMetricPathAndFileLineWhenNoID() throws {
        let builder = TestRecords.builder { $0.metric = "judge.restrict_to_banking" }
        let record: JSONObject = [
            "question": "Best pizza in town?", "answer": "Luigi's.",
            "judge": ["restrict_to_banking": ["score": 0, "status": "ok", "pass": false, "topic": "off_topic"]],
        ]
        #expect(builder.add(record, at: TestRecords.location(12)) == .selected(.refusalPolicy))
        #expect(builder.pairs.first?.sourceID == "traffic.jsonl:line 12")
    }

    @Test func countsAddUpToTheRecordsRead() {
        let builder = TestRecords.builder()
        builder.add(TestRecords.judged(question: "A", verdictTopic: "off_topic"), at: TestRecords.location(1))
        builder.add(TestRecords.judged(question: "A", verdictTopic: "off_topic"), at: TestRecords.location(2))
        builder.add(TestRecords.judged(question: "B", score: 1, verdictTopic: "off_topic"), at: TestRecords.location(3))
        builder.addMalformed(reason: "invalid JSON")
        let summary = builder.summary
        #expect(summary.records == 4)
        #expect(summary.reasons.values.reduce(0, +) == 4)
        #expect(summary.reasons["selected"] == 1 && summary.reasons["duplicate"] == 1)
        #expect(summary.reasons["passed_threshold"] == 1 && summary.reasons["malformed"] == 1)
    }
}
