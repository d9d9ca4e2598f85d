import CommandLineTool
import Foundation
import HTTPClient
import OrpoPairsCLI
import Records
import TestSupport
import Testing
@testable import PairBuilding

@Suite("orpo-pairs command")
struct OrpoPairsCommandTests {
    /// Runs the command in-process; returns its status and the diagnostics it printed.
    func run(_ arguments: [String], client: HTTPClient = HTTPClient(sleep: { _ in })) throws -> (status: Int32, stderr: [String]) {
        let command = try OrpoPairsCommand.parse(arguments)
        var lines: [String] = []
        let status = command.execute(diagnostics: Diagnostics(tool: "orpo-pairs") { lines.append($0) },
                                     apiKey: nil, client: client)
        return (status, lines)
    }

    let offTopic = TestRecords.judged(id: "gen-1", question: "Tell me a joke", answer: "Knock knock", verdictTopic: "off_topic")
    let banking = TestRecords.judged(id: "gen-2", question: "How do I order a new card?", answer: "You can't.", topic: "banking")

    @Test func writesPairsAndSummary() throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("traffic.jsonl", records: [
            offTopic, banking, TestRecords.judged(id: "gen-3", question: "tell me a JOKE", verdictTopic: "off_topic"),
            TestRecords.judged(id: "gen-4", question: "Nice weather?", score: 1, verdictTopic: "off_topic"),
        ])
        let reference = try dir.write("reference.jsonl", lines: [
            #"{"prompt": "how do i order a new card", "chosen": "Order one in the app or call the bank; it arrives in a few working days.", "rejected": "x", "topic": "banking"}"#,
        ])
        let (status, stderr) = try run([traffic, "--reference", reference, "--no-shuffle",
                                        "-o", dir.file("pairs.jsonl"), "--summary", dir.file("summary.json")])
        #expect(status == ExitStatus.success, "\(stderr)")
        let pairs = try dir.records("pairs.jsonl")
        #expect(pairs == [
            ["prompt": "Tell me a joke", "chosen": .string(TestRecords.refusal), "rejected": "Knock knock",
             "source": "traffic", "source_id": "gen-1", "judge_score": 0, "chosen_from": "refusal_policy",
             "teacher": nil, "topic": "off_topic"],
            ["prompt": "How do I order a new card?",
             "chosen": "Order one in the app or call the bank; it arrives in a few working days.", "rejected": "You can't.",
             "source": "traffic", "source_id": "gen-2", "judge_score": 0, "chosen_from": "reference",
             "teacher": nil, "topic": "banking"],
        ])
        let summary = try #require(try dir.records("summary.json").first)
        #expect(summary["records"] == 4 && summary["pairs"] == 2 && summary["errors"] == 0)
        #expect(summary.value(atPath: "reasons.duplicate") == 1)
        #expect(summary.value(atPath: "reasons.passed_threshold") == 1)
        #expect(stderr.contains("orpo-pairs: read 4 records, wrote 2 pairs (2 from traffic, 0 from the base dataset)"))
        #expect(stderr.contains("orpo-pairs: refused 0 prompts found in the evaluation set"))
    }

    @Test func messagesFormat() throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("traffic.jsonl", records: [offTopic])
        let (status, _) = try run([traffic, "--format", "messages", "-o", dir.file("pairs.jsonl")])
        #expect(status == ExitStatus.success)
        let pair = try #require(try dir.records("pairs.jsonl").first)
        #expect(pair["prompt"] == [["role": "user", "content": "Tell me a joke"]])
        #expect(pair["chosen"] == [["role": "assistant", "content": .string(TestRecords.refusal)]])
        #expect(pair["rejected"] == [["role": "assistant", "content": "Knock knock"]])
        #expect(pair["source_id"] == "gen-1")
    }

    @Test func recordsThatCannotBecomePairsGiveStatusOneAndAreNamed() throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("traffic.jsonl", lines: [
            JSONSerializer.string(.object(offTopic)), "{not json", JSONSerializer.string(.object(banking)),
            JSONSerializer.string(.object(TestRecords.judged(question: "Q", score: .null, status: "parse_error", pass: .null))),
        ])
        let (status, stderr) = try run([traffic, "-o", dir.file("pairs.jsonl")])
        #expect(status == ExitStatus.recordsFailed)
        #expect(try dir.records("pairs.jsonl").count == 1)
        #expect(stderr.contains { $0.hasPrefix("orpo-pairs: error: invalid JSON") && $0.hasSuffix("(\(traffic):line 2)") })
        #expect(stderr.contains("orpo-pairs: error: \(ChosenAnswerError.noReference) (\(traffic):line 3)"))
        #expect(stderr.contains("orpo-pairs: records by reason: selected 1, passed_threshold 0, judge_error 1, duplicate 0, leaked 0, same_answer 0, no_reference 1, unknown_topic 0, teacher_error 0, malformed 1, not_an_answer 0"))
    }

    @Test func fatalProblemsGiveStatusTwoAndWriteNothing() throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("traffic.jsonl", records: [offTopic])
        let badEval = try dir.write("eval.jsonl", lines: [#"{"prompt": "ok"}"#, #"{"chosen": "no prompt"}"#])
        var (status, stderr) = try run([traffic, "--eval", badEval, "-o", dir.file("pairs.jsonl")])
        #expect(status == ExitStatus.fatal)
        #expect(stderr == ["orpo-pairs: error: \(badEval):line 2: missing field 'prompt' or 'question'"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("pairs.jsonl")))

        (status, stderr) = try run([traffic, dir.file("missing.jsonl"), "-o", dir.file("pairs.jsonl")])
        #expect(status == ExitStatus.fatal)
        #expect(stderr.last?.contains("missing.jsonl: cannot open") == true)

        let badBase = try dir.write("base.jsonl", lines: [#"{"prompt": "p", "chosen": "c"}"#])
        (status, stderr) = try run([traffic, "--base", badBase])
        #expect(status == ExitStatus.fatal)
        #expect(stderr == ["orpo-pairs: error: \(badBase):line 1: missing field 'rejected'"])
    }

    @Test(arguments: [
        ["--teacher-url", "http://127.0.0.1:1/v1"],
        ["--base-ratio", "1"],
        ["--base", "b.jsonl", "--base-ratio", "-1"],
        ["--threshold", "nan"],
        ["--teacher-url", "http://x", "--teacher-model", "m", "--teacher-attempts", "0"],
    ])
    func invalidFlagCombinationsAreRejected(arguments: [String]) {
        #expect(throws: (any Error).self) { try OrpoPairsCommand.parse(arguments) }
    }

    @Test func teacherPathThroughTheCommand() throws {
        let server = try LoopbackHTTPServer(replies: [
            TeacherModelTests.completion(TestRecords.refusal), .status(503),
            TeacherModelTests.completion("Order it in the app."),
        ])
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        var unknownTopic = banking
        unknownTopic.removeValue(forKey: "topic")
        let traffic = try dir.write("traffic.jsonl", records: [offTopic, unknownTopic])
        let (status, stderr) = try run([traffic, "--teacher-url", server.url("/v1"), "--teacher-model", "big-teacher",
                                        "--reference", dir.file("unused.jsonl"), "--no-shuffle", "-o", dir.file("pairs.jsonl")])
        #expect(status == ExitStatus.success, "\(stderr)")
        let pairs = try dir.records("pairs.jsonl")
        #expect(pairs.map { $0["chosen"] } == [.string(TestRecords.refusal), "Order it in the app."])
        #expect(pairs.allSatisfy { $0["chosen_from"] == "teacher" && $0["teacher"] == "big-teacher" })
        #expect(stderr.contains { $0.hasPrefix("orpo-pairs: warning: teacher attempt 1 failed") })
        #expect(server.requests.count == 3)
        #expect(stderr.contains("orpo-pairs: warning: --reference is not used: with --teacher-url the teacher answers every selected record"))
    }

    /// Every option the command accepts is documented in the man page.
    @Test func manPageDocumentsEveryOption() throws {
        let page = try String(contentsOfFile: repositoryRoot + "/man/orpo-pairs.1", encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        let help = OrpoPairsCommand.helpMessage(columns: 200)
        let options = Set(help.split(whereSeparator: { !($0.isLetter || $0 == "-") }).filter { $0.hasPrefix("--") })
        #expect(options.count > 20)
        for option in options where option != "--help" {
            #expect(page.contains(option), "man/orpo-pairs.1 does not mention \(option)")
        }
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"] {
            #expect(page.contains(".SH \(section)") || page.contains(".SH \"\(section)\""), "no \(section) section")
        }
    }
}
