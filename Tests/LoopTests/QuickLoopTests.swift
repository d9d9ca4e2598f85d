import Foundation
import Inference
import Records
import Testing
import TestSupport

/// The whole feedback loop in its quick form (`scripts/loop --quick`) on the real default model,
/// with the tools of this build: serve, traffic, judge, window, alert, retrain, gate, merge,
/// reload, traffic again. It takes minutes, so it runs once, and its run folder is checked from
/// several angles.
@Suite(.serialized, .enabled(if: RealModelFile.isAvailable, "needs the default model (scripts/setup installs it)"))
struct QuickLoopTests {
    /// The repository root: this file is Tests/LoopTests/QuickLoopTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Run {
        var status: Int32
        var log: String
        var folder: URL

        func jsonl(_ name: String) -> [JSONObject] {
            let text = (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)).object }
        }

        func json(_ name: String) -> JSONObject? {
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
            return try? JSONParser.parse(text).object
        }
    }

    /// Runs the loop once for the whole suite.
    static let run: Result<Run, Error> = Result {
        let folder = URL(fileURLWithPath: temporaryPath("-loop"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/loop").path, "--quick",
                             "--bin", productsDirectory(containing: "gemma-infer").path, "--out", folder.path]
        process.currentDirectoryURL = root
        let logPath = temporaryPath("-loop.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        process.waitUntilExit()
        try? log.close()
        return Run(status: process.terminationStatus,
                   log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "", folder: folder)
    }

    @Test func theLoopRunsToItsReport() throws {
        let run = try Self.run.get()
        #expect(run.status == 0, "scripts/loop failed:\n\(run.log)")
        #expect(FileManager.default.fileExists(atPath: run.folder.appendingPathComponent("report.md").path))
        #expect(FileManager.default.fileExists(atPath: run.folder.appendingPathComponent("pass-rate.svg").path))
    }

    @Test func everyQuestionIsAnsweredLoggedAndJudged() throws {
        let run = try Self.run.get()
        let traffic = run.jsonl("traffic.jsonl")
        #expect(traffic.count == 24, "12 questions before and 12 after retraining")
        #expect(traffic.allSatisfy { $0["answer"]?.string != nil && $0["metadata"]?["topic"] != nil })
        for phase in ["judged-1.jsonl", "judged-2.jsonl"] {
            let judged = run.jsonl(phase)
            #expect(judged.count == 12)
            #expect(judged.allSatisfy { $0["restrict_to_banking"]?["status"]?.string == "ok" }, "\(phase)")
        }
    }

    @Test func theAlertFiresRetrainsPromotesAndResolves() throws {
        let run = try Self.run.get()
        let events = run.jsonl("alerts.jsonl").compactMap { $0["event"]?.string }
        #expect(events.first == "detected", "the base model answers off-topic questions: \(events)")
        let gate = try #require(run.json("gate.json"), "the retraining ran its gate:\n\(run.log)")
        #expect(gate["promote"]?.bool == true, "gate: \(gate)")
        #expect(events.last == "resolved", "after promotion the pass rate recovers: \(events)")
        let after = run.jsonl("traffic.jsonl").suffix(12)
        #expect(after.allSatisfy { $0["model"]?.string?.contains("merged") == true }, "the reloaded server answers")
    }

    @Test func theCandidateRefusesOffTopicAndStillAnswersBanking() throws {
        let run = try Self.run.get()
        let gate = try #require(run.json("gate.json"))
        let current = try #require(gate["current"]), candidate = try #require(gate["candidate"])
        let offBefore = try #require(current["off_topic_refusal_rate"]?.double)
        let offAfter = try #require(candidate["off_topic_refusal_rate"]?.double)
        #expect(offAfter > offBefore + 0.3, "off-topic refusals \(offBefore) -> \(offAfter)")
        let falseRefusals = try #require(candidate["banking_refusal_rate"]?.double)
        #expect(falseRefusals <= 0.2, "banking questions refused: \(falseRefusals)")
    }
}
