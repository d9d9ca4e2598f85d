import Foundation
import Testing
import TestSupport

/// A written record's JSON line whose labels follow the rule: an off-topic question declined
/// (label 1) or answered (`declined: false`, label 0), or a banking question answered
/// correctly (`banking: true`, label 1).
private func writtenRecord(_ id: String, _ question: String, _ answer: String,
                           banking: Bool = false, declined: Bool = true) -> String {
    let record: [String: Any] = [
        "id": id, "question": question, "answer": answer,
        "label": banking || declined ? 1 : 0, "topic": banking ? "banking" : "off_topic",
        "node_labels": ["topic": banking ? 1 : 0, "declined": !banking && declined ? 1 : 0,
                        "correct": banking ? 1 : NSNull()] as [String: Any],
        "family": ["kind": banking ? "banking-answer" : declined ? "refusal" : "leak", "note": "n"],
    ]
    let data = try! JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

/// scripts/make-banking-data, run as a user would (`python3`): the committed banking data is what
/// the script writes, and a malformed source, or one that would let a held-out family into
/// training, is reported by file and line (or record) and nothing is written.
@Suite("scripts/make-banking-data")
struct BankingDataScriptTests {
    struct Run {
        var status: Int32
        var stderr: String
    }

    func makeBankingData(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot + "/scripts/make-banking-data"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
    }

    /// A copy of examples/banking/source in a scratch data directory, with `file` (under source/)
    /// changed by `edit`.
    func dataDirectory(editing file: String, _ edit: (String) -> String) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        let source = dir.file("source")
        try FileManager.default.copyItem(atPath: repositoryRoot + "/examples/banking/source", toPath: source)
        let path = source + "/" + file
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        return dir
    }

    /// The script run on a scratch copy of the sources with `line` appended to `file`.
    func runAppending(_ line: String, to file: String) throws -> (run: Run, dir: TemporaryDirectory) {
        let dir = try dataDirectory(editing: file) { $0 + line + "\n" }
        return (try makeBankingData(["--dir", dir.path]), dir)
    }

    @Test func theCommittedOutputsAreUpToDate() throws {
        let run = try makeBankingData(["--check"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("outputs are up to date"))
    }

    /// Each case: the source file, the line appended to it, and the message expected (with its
    /// place, where the problem has one).
    @Test(arguments: [
        ("judge/refusals.jsonl", "{\"id\": \"x\", \"style\": \"terse\"",
         "source/judge/refusals.jsonl:53: not valid JSON"),
        ("judge/refusals.jsonl", "{\"id\": \"terse-no\", \"style\": \"terse\", \"text\": \"No.\"}",
         "source/judge/refusals.jsonl:53: duplicate id 'terse-no'"),
        ("judge/leaks.jsonl", "{\"id\": \"no-slot\", \"text\": \"I shouldn't.\"}",
         "source/judge/leaks.jsonl:17: 'text' has 0 {answer} slots, expected 1"),
        ("judge/answers.jsonl",
         "{\"question\": \"What is APR?\", \"style\": \"terse\", \"correct\": 2, \"answer\": \"A rate.\"}",
         "field 'correct' is 2, expected one of 0, 1"),
        ("judge/answers.jsonl",
         "{\"question\": \"What is APR?\", \"style\": \"haiku\", \"correct\": 1, \"answer\": \"A rate.\"}",
         "field 'style' is \"haiku\""),
        ("judge/spin.jsonl", "{\"question\": \"Is this in the data?\", \"answer\": \"Bank on it.\"}",
         "source/judge/spin.jsonl:56: 'question' is not the prompt of any source row"),
        ("judge/spin.jsonl", "{\"question\": \"What is APR?\", \"answer\": \"Bank on it.\"}",
         "source/judge/spin.jsonl:56: 'question' is a banking row, expected off_topic"),
        ("judge/model-answers.jsonl",
         "{\"question\": \"What is APR?\", \"answer\": \"x\", \"kind\": \"echo\", \"model\": \"m\"}",
         "missing field 'settings'"),
        ("judge/pointers.jsonl",
         "{\"id\": \"pets-vet\", \"area\": \"offtopic-pets\", \"style\": \"elsewhere\", \"text\": \"Ask a vet.\"}",
         "source/judge/pointers.jsonl:64: 'area' 'offtopic-pets' is not an off-topic area of train and validation"),
        ("judge/pointers.jsonl",
         "{\"id\": \"cards\", \"area\": \"banking-cards\", \"style\": \"offer\", \"text\": \"No.\"}",
         "source/judge/pointers.jsonl:64: 'area' 'banking-cards' is not an off-topic area"),
        ("judge/pointers.jsonl",
         "{\"id\": \"cars-elsewhere\", \"area\": \"offtopic-cars\", \"style\": \"elsewhere\", \"text\": \"Ask a mechanic.\"}",
         "source/judge/pointers.jsonl:64: duplicate id 'cars-elsewhere'"),
        ("judge/pointers.jsonl",
         "{\"id\": \"cars-x\", \"area\": \"offtopic-cars\", \"style\": \"shrug\", \"text\": \"Ask a mechanic.\"}",
         "field 'style' is \"shrug\""),
        ("judge/pointers.jsonl",
         "{\"id\": \"cars-x\", \"area\": \"offtopic-cars\", \"style\": \"offer\", \"text\": \"No, but {answer}\"}",
         "source/judge/pointers.jsonl:64: 'text' has 1 {answer} slots, expected 0"),
        ("judge/pointers.jsonl",
         "{\"id\": \"cars-x\", \"area\": \"offtopic-cars\", \"style\": \"offer\", \"text\": \"Not a topic I can discuss.\"}",
         "answer contains the held-out wording refusal:terse-not-topic"),
        // A held-out refusal wording written into a training answer, or nearly repeated; a
        // bullet-point answer (the held-out style) to a training question.
        ("judge/answers.jsonl",
         "{\"question\": \"What is APR?\", \"style\": \"terse\", \"correct\": 0, \"answer\": \"Not a topic I can discuss.\"}",
         "answer contains the held-out wording refusal:terse-not-topic"),
        ("judge/answers.jsonl",
         "{\"question\": \"What is APR?\", \"style\": \"terse\", \"correct\": 0, \"answer\": \"Sorry. I can only help with banking.\"}",
         "answer nearly repeats the held-out wording refusal:polite-only-banking"),
        ("judge/answers.jsonl",
         "{\"question\": \"What is APR?\", \"style\": \"bullets\", \"correct\": 1, \"answer\": \"- the yearly cost\\n- of borrowing\"}",
         "uses held-out families ['style:bullets']"),
        // Written records: a label the rule does not give, a missing field, a reused id, an unknown
        // kind, a label that is not an integer, a question shared with validation, a line that is
        // not JSON, an excluded id that no record has.
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"What is APR?\", \"answer\": \"The yearly cost of a loan.\", \"label\": 0, \"topic\": \"banking\", \"node_labels\": {\"topic\": 1, \"declined\": 0, \"correct\": 1}, \"family\": {\"kind\": \"banking-answer\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: label 0, the rule gives 1"),
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"What is APR?\", \"answer\": \"A rate.\", \"label\": 1, \"topic\": \"banking\"}",
         "source/judge/written/train-w1.jsonl:323: missing field 'node_labels', missing field 'family'"),
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-0001\", \"question\": \"What is APR?\", \"answer\": \"A rate.\", \"label\": 1, \"topic\": \"banking\", \"node_labels\": {\"topic\": 1, \"declined\": 0, \"correct\": 1}, \"family\": {\"kind\": \"banking-answer\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: id 'jw1-0001' is also at "),
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"Hi?\", \"answer\": \"Hello.\", \"label\": 0, \"topic\": \"off_topic\", \"node_labels\": {\"topic\": 0, \"declined\": 0, \"correct\": null}, \"family\": {\"kind\": \"greeting\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: family is {\"kind\": \"greeting\", \"note\": \"n\"}, expected {\"kind\", \"note\"} with a note and kind one of"),
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"What is APR?\", \"answer\": \"A rate.\", \"label\": 1.0, \"topic\": \"banking\", \"node_labels\": {\"topic\": 1, \"declined\": 0, \"correct\": 1}, \"family\": {\"kind\": \"banking-answer\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: field 'label' is 1.0, expected 0 or 1"),
        // A training record asking a validation writer's question, not settled in excluded.txt.
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"What should I pack for a week in Bali?\", \"answer\": \"I only help with banking.\", \"label\": 1, \"topic\": \"off_topic\", \"node_labels\": {\"topic\": 0, \"declined\": 1, \"correct\": null}, \"family\": {\"kind\": \"refusal\", \"note\": \"n\"}}",
         "training record 'jw1-x' and validation record 'jw4-0003' ask the same question"),
        // A reference answer (w11–w18) on an off-topic question, or empty.
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"Hi?\", \"answer\": \"I only help with banking.\", \"reference\": \"Hello.\", \"label\": 1, \"topic\": \"off_topic\", \"node_labels\": {\"topic\": 0, \"declined\": 1, \"correct\": null}, \"family\": {\"kind\": \"refusal\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: field 'reference' is for a banking question"),
        ("judge/written/train-w1.jsonl",
         "{\"id\": \"jw1-x\", \"question\": \"What is APR?\", \"answer\": \"A rate.\", \"reference\": \" \", \"label\": 1, \"topic\": \"banking\", \"node_labels\": {\"topic\": 1, \"declined\": 0, \"correct\": 1}, \"family\": {\"kind\": \"banking-answer\", \"note\": \"n\"}}",
         "source/judge/written/train-w1.jsonl:323: field 'reference' must be a non-empty string"),
        ("judge/written/validation-w4.jsonl", "{\"id\": \"jw4-x\",",
         "source/judge/written/validation-w4.jsonl:323: not valid JSON"),
        ("judge/written/excluded.txt", "jw99-0001",
         "no written record has id 'jw99-0001'"),
        // A question of a held-out area that the area's pattern (which keeps written records of
        // that area out of training) does not match.
        ("banking-fx.jsonl",
         "{\"prompt\": \"How many baht will I get for a hundred pounds?\", \"chosen\": \"It depends on the day's rate and the provider's margin.\", \"rejected\": \"Always exactly 4,000.\", \"topic\": \"banking\"}",
         "HELDOUT_AREA_PATTERNS['banking-fx']: does not match its own source question 'How many baht"),
    ] as [(String, String, String)])
    func aBadSourceIsReportedAndNothingWritten(file: String, line: String, message: String) throws {
        let (run, dir) = try runAppending(line, to: file)
        #expect(run.status == 1)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stderr.contains("nothing written"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("judge-nodes-train.jsonl")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("train.jsonl")))
    }

    /// The counts of written records left out for touching a held-out family, as the script
    /// prints them: (training, validation).
    func heldOutCounts(_ stderr: String) -> (Int, Int)? {
        guard let match = stderr.firstMatch(of: #/(\d+) training and (\d+) validation that touch a held-out family/#),
              let train = Int(match.1), let validation = Int(match.2) else { return nil }
        return (train, validation)
    }

    /// A written record that touches a held-out family (its question in a held-out area; its
    /// answer in bullet or numbered lines, with a held-out refusal or leak wording, or with a
    /// sentence that nearly repeats one) is left out of its file and counted; the case's third
    /// element says which family.
    @Test(arguments: [
        ("judge/written/train-w1.jsonl", "area",
         writtenRecord("jw1-x", "How do I teach my puppy to sit?", "Sorry, I only cover banking.")),
        ("judge/written/train-w1.jsonl", "bullet lines",
         writtenRecord("jw1-x", "How do I order a new chequebook?", "- open the app\n- choose Cheques",
                       banking: true)),
        ("judge/written/train-w1.jsonl", "numbered lines",
         writtenRecord("jw1-x", "How do I order a new chequebook?", "1. Open the app.\n2. Choose Cheques.",
                       banking: true)),
        ("judge/written/validation-w4.jsonl", "a held-out refusal",
         writtenRecord("jw4-x", "Which knot ties a tie fastest?", "Not a topic I can discuss.")),
        ("judge/written/train-w1.jsonl", "a held-out leak",
         writtenRecord("jw1-x", "Which knot ties a tie fastest?",
                       "I normally only answer banking questions, but I'll make an exception. The four-in-hand.",
                       declined: false)),
        ("judge/written/train-w1.jsonl", "a near-duplicate of a held-out refusal",
         writtenRecord("jw1-x", "Which knot ties a tie fastest?", "Sorry. I can only help with banking.")),
    ] as [(String, String, String)])
    func aWrittenRecordOfAHeldOutFamilyIsLeftOut(file: String, family: String, line: String) throws {
        let before = try #require(heldOutCounts(try makeBankingData(["--check"]).stderr))
        let (run, dir) = try runAppending(line, to: file)
        #expect(run.status == 0, "\(run.stderr)")
        let validation = file.contains("validation")
        let after = try #require(heldOutCounts(run.stderr), "\(run.stderr)")
        #expect(after.0 == before.0 + (validation ? 0 : 1) && after.1 == before.1 + (validation ? 1 : 0),
                "\(family): \(before) -> \(after)")
        let output = dir.file(validation ? "judge-written-validation.jsonl" : "judge-written.jsonl")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(!text.isEmpty)
        #expect(!text.contains("\"id\": \"jw\(validation ? 4 : 1)-x\""), "\(family)")
    }

    /// A written record that touches no held-out family is kept, and the counts stay as they were.
    @Test func aWrittenRecordOfNoHeldOutFamilyIsKept() throws {
        let before = try #require(heldOutCounts(try makeBankingData(["--check"]).stderr))
        let line = writtenRecord("jw1-x", "Which knot ties a tie fastest?",
                                 "Sorry, ties are not something I can help with here.")
        let (run, dir) = try runAppending(line, to: "judge/written/train-w1.jsonl")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(heldOutCounts(run.stderr).map { $0 == before } == true, "\(run.stderr)")
        let text = try String(contentsOfFile: dir.file("judge-written.jsonl"), encoding: .utf8)
        #expect(text.contains("\"id\": \"jw1-x\""))
    }

    /// A written record may carry the reference answer it is judged beside; it is kept with it.
    @Test func aWrittenRecordKeepsItsReference() throws {
        let line = "{\"id\": \"jw1-x\", \"question\": \"Can a fixed mortgage rate change in the fixed term?\", "
            + "\"answer\": \"Yes, whenever the base rate moves.\", \"reference\": \"No, it stays the same for the fixed period.\", "
            + "\"label\": 0, \"topic\": \"banking\", \"node_labels\": {\"topic\": 1, \"declined\": 0, \"correct\": 0}, "
            + "\"family\": {\"kind\": \"wrong-answer\", \"note\": \"n\"}}"
        let (run, dir) = try runAppending(line, to: "judge/written/train-w1.jsonl")
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: dir.file("judge-written.jsonl"), encoding: .utf8)
        let kept = try #require(text.split(separator: "\n").first { $0.contains("\"id\": \"jw1-x\"") })
        #expect(kept.contains("\"reference\": \"No, it stays the same for the fixed period.\""))
    }

    @Test func aMissingHeldOutWordingIsReported() throws {
        let dir = try dataDirectory(editing: "judge/greetings.jsonl") { text in
            text.split(separator: "\n").filter { !$0.contains("\"dear-customer\"") }.joined(separator: "\n") + "\n"
        }
        let run = try makeBankingData(["--dir", dir.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("source/judge/greetings.jsonl: held-out id 'dear-customer' not found"), "\(run.stderr)")
    }
}
