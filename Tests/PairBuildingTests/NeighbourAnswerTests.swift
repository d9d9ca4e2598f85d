import CommandLineTool
import Foundation
import HTTPClient
import OrpoPairsCLI
import Records
import TestSupport
import Testing
@testable import PairBuilding
import Policy

@Suite struct QuestionOverlapTests {
    @Test func jaccardOfContentWords() {
        #expect(QuestionOverlap.contentWords("How do I reset my online-banking password?") == ["reset", "online", "banking", "password"])
        #expect(QuestionOverlap.of("I forgot my online banking password", "How do I reset my online banking password?") == 0.6)
        // Function words do not count: these share only "interest".
        #expect(abs(QuestionOverlap.of("What is accrued interest?", "What is compound interest?") - 1.0 / 3) < 1e-12)
        #expect(QuestionOverlap.of("What is it?", "How do I?") == 0)
        #expect(QuestionOverlap.of("Order a card", "order a CARD!") == 1)
    }

    @Test func theNearestReferenceAboveTheThresholdFirstOnATie() {
        var references = ReferenceAnswers()
        references.add(prompt: "How do I reset my online banking password?", answer: "Use 'Forgot password' on the sign-in page.")
        references.add(prompt: "Reset my online banking password, how?", answer: "The same question, later in the file.")
        references.add(prompt: "What is the weather in online banking land?", answer: "A refusal row", neighbour: false)
        let found = references.nearest(to: "I forgot my online banking password", minimumOverlap: 0.5)
        #expect(found == ReferenceNeighbour(prompt: "How do I reset my online banking password?",
                                            answer: "Use 'Forgot password' on the sign-in page.", overlap: 0.6))
        #expect(references.nearest(to: "I forgot my online banking password", minimumOverlap: 0.61) == nil)
        #expect(references.nearest(to: "weather land", minimumOverlap: 0.01) == nil, "rows kept out of neighbours are not found")
    }

    /// Rows whose topic is out of scope (the refusal) are never a banking question's neighbour.
    @Test func outOfScopeRowsAreNoNeighbours() {
        let rows = [PreferenceRow(prompt: "online banking password joke", chosen: "Refusal.", rejected: nil, topic: "off_topic",
                                  location: RecordLocation(source: "r", line: 1))]
        let references = ReferenceAnswers(rows: rows) { $0 == "banking" }
        #expect(references.nearest(to: "online banking password joke", minimumOverlap: 0.1) == nil)
        #expect(references.answer(to: "online banking password joke")?.answer == "Refusal.", "the exact lookup still works")
    }
}

/// The threshold above which a neighbour's answer is tried, chosen on the validation split: for each
/// banking question of examples/banking/validation.jsonl, its nearest banking question in train.jsonl;
/// the neighbour's answer fits when it shares at least 0.3 of its content words with the question's
/// own reference answer (QuestionOverlap's Jaccard on the answers). The threshold is the lowest
/// multiple of 0.05 above the overlap of every neighbour that does not fit: no validation question
/// would be taught another question's answer that does not fit. (The judge then checks each one the
/// loop tries.)
@Suite struct NeighbourThresholdTests {
    func rows(_ name: String) throws -> [PreferenceRow] {
        try PreferenceFile.read(paths: ["\(repositoryRoot)/examples/banking/\(name)"], requiring: .init(chosen: true, rejected: false))
    }

    @Test func theDefaultIsTheLowestThatTeachesNoMisfitOnValidation() throws {
        let references = ReferenceAnswers(rows: try rows("train.jsonl")) { $0 == "banking" }
        var misfits: [Double] = [], fits: [Double] = []
        for row in try rows("validation.jsonl") where row.topic == "banking" {
            let neighbour = try #require(references.nearest(to: row.prompt, minimumOverlap: 0))
            let answerOverlap = QuestionOverlap.of(neighbour.answer, try #require(row.chosen))
            if answerOverlap >= 0.3 { fits.append(neighbour.overlap) } else { misfits.append(neighbour.overlap) }
        }
        let highestMisfit = try #require(misfits.max())
        let chosen = (highestMisfit / 0.05).rounded(.down) * 0.05 + 0.05
        #expect(abs(PolicyAnswers.defaultNeighbourOverlap - chosen) < 1e-9,
                "highest misfit \(highestMisfit); fits at \(fits.sorted())")
        // What the man page reports of the choice.
        #expect(misfits.count + fits.count == 57 && fits.count == 2, "\(misfits.count) misfits, \(fits.count) fits")
        #expect(fits.allSatisfy { $0 < chosen }, "on validation no neighbour reaches the threshold")
    }
}

@Suite struct JudgedAnswersTests {
    let metric = "restrict_to_banking"

    func record(_ question: String, _ answer: String, verdict: JSONObject) -> JSONObject {
        ["question": .string(question), "answer": .string(answer), "restrict_to_banking": .object(verdict)]
    }

    @Test func theCorrectnessNodeDecidesWhereTheJudgeWroteIt() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("judged.jsonl", records: [
            record("Q?", "node says no", verdict: ["status": "ok", "pass": true, "score": 1,
                                                   "nodes": ["correct": ["p": 0.2, "decision": 0]]]),
            record("q", "node says yes", verdict: ["status": "ok", "pass": false, "score": 0,
                                                   "nodes": ["correct": ["p": 0.7, "decision": 1]]]),
            record("Q", "stronger", verdict: ["status": "ok", "nodes": ["correct": ["p": 0.9, "decision": 1]]]),
            record("Q", "no node", verdict: ["status": "ok", "pass": true, "score": 1]),
            record("Q", "not judged", verdict: ["status": "parse_error", "pass": true, "score": 1]),
        ])
        let answers = try JudgedAnswers(paths: [path], metric: metric)
        #expect(answers.count == 5)
        #expect(answers.verdict(question: "q?", answer: "node says no")?.passes == false)
        #expect(answers.verdict(question: "q", answer: "node says yes")?.passes == true)
        #expect(answers.verdict(question: "q", answer: "not judged")?.passes == false)
        #expect(answers.best(question: "Q", excluding: [])?.answer == "no node", "score 1 beats p 0.9")
        #expect(answers.best(question: "Q", excluding: ["no node"])?.answer == "stronger")
        #expect(answers.best(question: "Q", excluding: ["no node", "stronger", "node says yes"]) == nil)
        #expect(answers.best(question: "other", excluding: []) == nil)
    }

    @Test(arguments: [
        (#"not json"#, "line 1"),
        (#"{"answer": "a", "restrict_to_banking": {"status": "ok", "pass": true}}"#, "missing field 'question'"),
        (#"{"question": "q", "answer": 3, "restrict_to_banking": {"status": "ok", "pass": true}}"#, "field 'answer' must be a string, found number"),
        (#"{"question": "q", "answer": "a"}"#, "missing field 'restrict_to_banking'"),
        (#"{"question": "q", "answer": "a", "restrict_to_banking": 1}"#, "field 'restrict_to_banking' must be an object"),
        (#"{"question": "q", "answer": "a", "restrict_to_banking": {"status": "ok"}}"#, "field 'restrict_to_banking.pass' is missing"),
        (#"{"question": "q", "answer": "a", "restrict_to_banking": {"status": "ok", "nodes": {"correct": {"p": 0.5, "decision": 2}}}}"#,
         "field 'restrict_to_banking.nodes.correct' must be an object with 'decision' 0 or 1"),
        (#"{"question": "q", "answer": "a", "restrict_to_banking": {"status": "ok", "nodes": {"correct": {"decision": 1}}}}"#,
         "field 'restrict_to_banking.nodes.correct.p' is missing"),
    ])
    func malformedInputIsNamedWithItsLine(line: String, message: String) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("judged.jsonl", lines: [line])
        #expect {
            _ = try JudgedAnswers(paths: [path], metric: metric)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("line 1")
        }
    }
}

@Suite struct PolicyAnswersChainTests {
    let question = "I forgot my online banking password"
    let neighbourAnswer = "Use 'Forgot password' on the sign-in page."

    func references() -> ReferenceAnswers {
        var references = ReferenceAnswers()
        references.add(prompt: "How do I reset my online banking password?", answer: neighbourAnswer)
        return references
    }

    func judged(_ entries: [(String, Bool, Double)]) -> JudgedAnswers {
        var answers = JudgedAnswers()
        for (answer, passes, strength) in entries {
            answers.add(question: question, .init(answer: answer, passes: passes, strength: strength))
        }
        return answers
    }

    func chosen(_ source: PolicyAnswers, answer: String = "I forgot my online banking password") throws -> ChosenAnswer {
        try source.chosenAnswer(for: JudgedRecord(id: "1", question: question, answer: answer, score: 0, passed: false, topic: "banking"))
    }

    @Test func aNeighbourIsTaughtOnlyOnceTheJudgePassedIt() throws {
        let unjudged = PolicyAnswers(references: references(), neighbourOverlap: 0.5)
        #expect(throws: ChosenAnswerError.noReference) { try chosen(unjudged) }
        let passed = PolicyAnswers(references: references(), neighbourOverlap: 0.5,
                                   judgedAnswers: judged([(neighbourAnswer, true, 0.6), ("A sample.", true, 0.9)]))
        #expect(try chosen(passed) == ChosenAnswer(text: neighbourAnswer, origin: .neighbour))
        // Below the threshold the neighbour is not tried, even judged: the best sample is taught.
        let far = PolicyAnswers(references: references(), neighbourOverlap: 0.7,
                                judgedAnswers: judged([(neighbourAnswer, true, 0.6), ("A sample.", true, 0.9)]))
        #expect(try chosen(far) == ChosenAnswer(text: "A sample.", origin: .sample))
    }

    @Test func aFailedNeighbourFallsToTheBestPassingSampleElseNone() throws {
        let samples = PolicyAnswers(references: references(), neighbourOverlap: 0.5, judgedAnswers: judged([
            (neighbourAnswer, false, 0.1), ("Weak.", true, 0.55), ("Strong.", true, 0.8), ("Wrong.", false, 0.95),
        ]))
        #expect(try chosen(samples) == ChosenAnswer(text: "Strong.", origin: .sample))
        // The model's own (failed) answer is never its own chosen.
        #expect(try chosen(samples, answer: "Strong.") == ChosenAnswer(text: "Weak.", origin: .sample))
        let none = PolicyAnswers(references: references(), neighbourOverlap: 0.5,
                                 judgedAnswers: judged([(neighbourAnswer, false, 0.1), ("Wrong.", false, 0.95)]))
        #expect(throws: ChosenAnswerError.noReference) { try chosen(none) }
    }

    @Test func theOwnReferenceComesFirst() throws {
        var refs = references()
        refs.add(prompt: question, answer: "Its own answer.")
        let source = PolicyAnswers(references: refs, neighbourOverlap: 0.5, judgedAnswers: judged([("A sample.", true, 1)]))
        #expect(try chosen(source) == ChosenAnswer(text: "Its own answer.", origin: .reference))
    }
}

/// The two runs scripts/retrain makes: the first lists the questions to judge (`--to-judge`), the
/// second takes their judged answers (`--judged-answers`).
@Suite struct JudgedAnswersCommandTests {
    func run(_ arguments: [String]) throws -> (status: Int32, stderr: [String]) {
        let command = try OrpoPairsCommand.parse(arguments)
        var lines: [String] = []
        let status = command.execute(diagnostics: Diagnostics(tool: "orpo-pairs") { lines.append($0) }, apiKey: nil)
        return (status, lines)
    }

    @Test func toJudgeThenJudgedAnswers() throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("traffic.jsonl", records: [
            TestRecords.judged(id: "t-1", question: "I forgot my online banking password", answer: "Password.", topic: "banking"),
            TestRecords.judged(id: "t-2", question: "When does the branch open on Saturday?", answer: "Saturday.", topic: "banking"),
            TestRecords.judged(id: "t-3", question: "Tell me a joke", answer: "Knock knock", topic: "off_topic"),
        ])
        let reference = try dir.write("reference.jsonl", lines: [
            #"{"prompt": "How do I reset my online banking password?", "chosen": "Use 'Forgot password' on the sign-in page.", "topic": "banking"}"#,
            #"{"prompt": "online banking password joke", "chosen": "Refusal.", "topic": "off_topic"}"#,
        ])
        let first = try run([traffic, "--reference", reference, "--neighbour-overlap", "0.55", "--no-shuffle",
                             "-o", dir.file("pairs-1.jsonl"), "--to-judge", dir.file("to-judge.jsonl")])
        #expect(first.status == ExitStatus.recordsFailed, "two banking questions have no chosen answer yet")
        #expect(try dir.records("pairs-1.jsonl").map { $0["chosen_from"] } == ["refusal_policy"])
        #expect(try dir.records("to-judge.jsonl") == [
            ["id": "t-1", "question": "I forgot my online banking password", "topic": "banking",
             "neighbour": ["prompt": "How do I reset my online banking password?",
                           "answer": "Use 'Forgot password' on the sign-in page.", "overlap": 0.6]],
            ["id": "t-2", "question": "When does the branch open on Saturday?", "topic": "banking", "neighbour": nil],
        ])
        // The judge passed the neighbour's answer for t-1 and one of two samples for t-2.
        func judged(_ question: String, _ answer: String, _ pass: Bool) -> JSONObject {
            ["question": .string(question), "answer": .string(answer),
             "restrict_to_banking": ["status": "ok", "pass": .bool(pass), "score": pass ? 1 : 0]]
        }
        let judgedAnswers = try dir.write("judged-answers.jsonl", records: [
            judged("I forgot my online banking password", "Use 'Forgot password' on the sign-in page.", true),
            judged("When does the branch open on Saturday?", "It opens at 9.", false),
            judged("When does the branch open on Saturday?", "Most branches open 9 to 12; see the app.", true),
        ])
        let second = try run([traffic, "--reference", reference, "--neighbour-overlap", "0.55", "--no-shuffle",
                              "--judged-answers", judgedAnswers, "-o", dir.file("pairs-2.jsonl"), "--summary", dir.file("summary.json")])
        #expect(second.status == ExitStatus.success, "\(second.stderr)")
        let pairs = try dir.records("pairs-2.jsonl")
        #expect(pairs.map { $0["chosen_from"] } == ["neighbour", "sample", "refusal_policy"])
        #expect(pairs[1]["chosen"] == "Most branches open 9 to 12; see the app." && pairs[1]["rejected"] == "Saturday.")
        let summary = try #require(try dir.records("summary.json").first)
        #expect(summary["chosen_from"] == ["neighbour": 1, "refusal_policy": 1, "sample": 1])

        let bad = try dir.write("bad.jsonl", lines: [#"{"question": "q"}"#])
        let fatal = try run([traffic, "--judged-answers", bad, "-o", dir.file("pairs-3.jsonl")])
        #expect(fatal.status == ExitStatus.fatal)
        #expect(fatal.stderr.contains { $0.contains("bad.jsonl") && $0.contains("missing field 'answer'") }, "\(fatal.stderr)")
        let usage = try? OrpoPairsCommand.parse([traffic, "--neighbour-overlap", "0"])
        #expect(usage.map { (try? $0.validate()) == nil } ?? true)
    }
}
