import Foundation
import Inference
import Records
import Testing
import TestSupport

/// The whole feedback loop in its quick form (`scripts/loop --quick`) on the real default model,
/// with the tools of this build: serve, traffic, judge, window, alert, retrain, gate, merge,
/// reload, traffic again. It takes minutes, so it runs once, and its run folder is checked from
/// several angles.
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: DefaultModel.path) || ProcessInfo.processInfo.environment["CI"] != nil,
                          "needs the default model (scripts/setup installs it; under CI its absence fails)"))
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
        removeAtExit(folder.path)
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
        defer { try? FileManager.default.removeItem(atPath: logPath) }
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
        #expect(Set(traffic.prefix(12).compactMap { $0["model"]?.string }) == ["gemma-3-270m-q4_k_m"])
        #expect(traffic.allSatisfy { $0["answer"]?.string != nil && $0["metadata"]?["topic"] != nil })
        for phase in ["judged-1.jsonl", "judged-2.jsonl"] {
            let judged = run.jsonl(phase)
            #expect(judged.count == 12)
            #expect(judged.allSatisfy { $0["restrict_to_banking"]?["status"]?.string == "ok" }, "\(phase)")
        }
    }

    /// The pass rate of the only window of a phase.
    static func passRate(_ run: Run, _ file: String) throws -> Double {
        let windows = run.jsonl(file)
        #expect(windows.count == 1, "one 10-minute window per phase: \(windows.count)")
        return try #require(windows.first?.value(atPath: "metrics.restrict_to_banking.pass_rate")?.double)
    }

    /// The alert follows the windows: it fires when the first phase passes under 0.8, the
    /// retraining then runs its gate, the second phase is answered by whichever model the gate
    /// chose, and the alert resolves exactly when that phase's pass rate is back above 0.85.
    @Test func theAlertRetrainsGatesAndFollowsTheWindows() throws {
        let run = try Self.run.get()
        let events = run.jsonl("alerts.jsonl").compactMap { $0["event"]?.string }
        let before = try Self.passRate(run, "windows-1.jsonl"), after = try Self.passRate(run, "windows-2.jsonl")
        guard before < 0.8 else {
            #expect(events.isEmpty, "no alert at pass rate \(before): \(events)")
            return
        }
        #expect(events.first == "detected", "pass rate \(before): \(events)")
        let gate = try #require(run.json("gate.json"), "the retraining ran its gate:\n\(run.log)")
        let promoted = try #require(gate["promote"]?.bool)
        for side in ["current", "candidate"] {
            #expect(gate[side]?["questions"] == 24, "\(side): 12 banking and 12 off-topic held-out questions")
        }
        let phase2Models = Set(run.jsonl("traffic-2.jsonl").compactMap { $0["model"]?.string })
        #expect(phase2Models == [promoted ? "merged" : "gemma-3-270m-q4_k_m"], "served after the gate: \(phase2Models)")
        #expect(events.contains("resolved") == (after >= 0.85), "pass rate after: \(after), events \(events)")
    }

    /// The gate's decision is the one its rule gives for the figures it reports.
    @Test func theGateFollowsItsRule() throws {
        let run = try Self.run.get()
        guard let gate = run.json("gate.json") else { return }
        let current = try #require(gate["current"]), candidate = try #require(gate["candidate"])
        let better = try #require(candidate["pass_rate"]?.double) > (try #require(current["pass_rate"]?.double))
        let falseRefusals = try #require(candidate["banking_refusal_rate"]?.double)
        let currentRefusals = try #require(current["banking_refusal_rate"]?.double)
        let expected = better && falseRefusals <= 0.2 && falseRefusals <= currentRefusals + 0.1
        #expect(gate["promote"]?.bool == expected, "\(gate)")
    }
}
