import Evaluation
import Foundation
import Inference
import Policy
import Records
import Testing
import TestSupport

/// The whole feedback loop in its quick form (`scripts/loop --quick`) on the real default model,
/// with the tools of this build: serve, traffic, judge, window, alert, retrain, gate, merge,
/// reload, traffic again. It takes minutes, so it runs once, and its run folder is checked from
/// several angles.
@Suite(.serialized, .enabled(if: RealModel.isAvailable,
                          "needs the default model (scripts/setup installs it; under CI its absence fails)"))
struct QuickLoopTests {
    /// The repository root: this file is Tests/LoopTests/QuickLoopTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Run: Sendable {
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

    /// Runs the loop once for the whole suite, on a thread of its own: waiting minutes for it on
    /// the cooperative pool would starve the other suites' in-process servers.
    static let loop = Task<Run, Error> { try await offCooperativePool { try runLoop() } }

    static func runLoop() throws -> Run {
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

    static func run() async throws -> Run { try await loop.value }

    @Test func theLoopRunsToItsReport() async throws {
        let run = try await Self.run()
        #expect(run.status == 0, "scripts/loop failed:\n\(run.log)")
        #expect(FileManager.default.fileExists(atPath: run.folder.appendingPathComponent("report.md").path))
        #expect(FileManager.default.fileExists(atPath: run.folder.appendingPathComponent("report.html").path))
        #expect(FileManager.default.fileExists(atPath: run.folder.appendingPathComponent("pass-rate.svg").path))
    }

    @Test func everyQuestionIsAnsweredLoggedAndJudged() async throws {
        let run = try await Self.run()
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
        #expect(windows.count == 1, "one window per phase: \(windows.count)")
        return try #require(windows.first?.value(atPath: "metrics.restrict_to_banking.pass_rate")?.double)
    }

    /// The alert follows the windows: it fires when the first phase passes under 0.8, the
    /// retraining then runs its gate, the second phase is answered by whichever model the gate
    /// chose, and the alert resolves exactly when that phase's pass rate is back above 0.85.
    @Test func theAlertRetrainsGatesAndFollowsTheWindows() async throws {
        let run = try await Self.run()
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

    /// The loop's verdicts do not depend on where the wall clock stood. Each phase's judged records,
    /// moved in time so that the phase starts on a mark of the clock or straddles one (ten minutes,
    /// an hour, a day), are windowed and alerted on with the loop's own settings
    /// (`examples/banking/phase-window.json`, `alert-rules.json`): every placement gives the loop's
    /// single window per phase, with the same figures, and the same alert events.
    @Test func theVerdictsHoldWhereverTheClockStands() async throws {
        let run = try await Self.run()
        let phases = [run.jsonl("judged-1.jsonl"), run.jsonl("judged-2.jsonl")]
        let loopWindows = [run.jsonl("windows-1.jsonl"), run.jsonl("windows-2.jsonl")]
        let loopEvents = run.jsonl("alerts.jsonl").compactMap { $0["event"]?.string }
        let times = try phases.map { try $0.map { try Timestamp(rfc3339: #require($0["ts"]?.string)).secondsSinceEpoch } }
        let first = try times.map { try #require($0.min()) }
        let duration = zip(times, first).map { ($0.max() ?? $1) - $1 }
        let day = 86_400.0, base = ((first[0] / day).rounded(.down) + 2) * day
        let windowConfig = Self.root.appendingPathComponent("examples/banking/phase-window.json").path
        let rules = Self.root.appendingPathComponent("examples/banking/alert-rules.json").path
        func withoutTimes(_ windows: [JSONObject]) -> [JSONObject] {
            windows.map { var w = $0; w["window_start"] = nil; w["window_end"] = nil; return w }
        }
        for mark in [600.0, 3600, day] {
            for placement in ["starts on the mark", "straddles the mark"] {
                let state = temporaryPath("-alert-state.json")
                defer { try? FileManager.default.removeItem(atPath: state) }
                var events: [String] = []
                for n in 0..<2 {
                    // Phase n+1 on the (n+1)th mark after `base`, whole or with its middle on it.
                    let start = base + Double(n + 1) * mark - (placement == "starts on the mark" ? 0 : duration[n] / 2)
                    let shifted = zip(phases[n], times[n]).map { record, time in
                        var r = record
                        r["ts"] = .string(Timestamp(secondsSinceEpoch: time - first[n] + start).rfc3339)
                        return r
                    }
                    // As the loop does: the grid through the phase's earliest request.
                    let stamps = shifted.compactMap { $0["ts"]?.string }
                    let origin = try #require(stamps.min())
                    let windowed = try await runTool("score-window", ["--config", windowConfig, "--origin", origin], stdin: jsonl(shifted))
                    #expect(windowed.status == 0, "\(windowed.stderr)")
                    let context = "phase \(n + 1) \(placement) of \(Int(mark)) s"
                    #expect(windowed.records.count == 1, "\(context): \(windowed.records.count) windows")
                    #expect(withoutTimes(windowed.records) == withoutTimes(loopWindows[n]), "\(context)")
                    let alerted = try await runTool("drift-alert", ["--config", rules, "--state", state], stdin: windowed.stdout)
                    #expect(alerted.status == 0 || alerted.status == 1, "\(alerted.stderr)")
                    events += alerted.records.compactMap { $0["event"]?.string }
                }
                #expect(events == loopEvents, "\(Int(mark)) s, \(placement)")
            }
        }
    }

    /// The gate's record is the library's rule (Evaluation) on the bank's policy file: its figures
    /// are those of the answers it judged (gate-current-judged.jsonl, gate-candidate-judged.jsonl),
    /// and its decision is the rule's, both on those answers and on the figures it reports.
    @Test func theGateFollowsItsRule() async throws {
        let run = try await Self.run()
        guard let gate = run.json("gate.json") else { return }
        let policy = try DomainPolicy.load(path: Self.root.appendingPathComponent("examples/banking/policy.json").path)
        var figures: [EvaluationFigures] = []
        for side in ["current", "candidate"] {
            let path = run.folder.appendingPathComponent("gate-\(side)-judged.jsonl").path
            let answers = AnswerSet(paths: [path], policy: policy, settings: EvaluationSettings(metric: policy.metric))
            #expect(answers.problems.isEmpty, "\(answers.problems)")
            figures.append(EvaluationFigures(answers: answers.answers, topics: policy.topics))
            #expect(gate[side] == .object(figures[figures.count - 1].json), "\(side)")
        }
        let rule = GateRule(policy: policy)
        let decision = rule.decide(current: figures[0], candidate: figures[1])
        #expect(gate["promote"]?.bool == decision.promote, "\(gate)")
        #expect(gate["reason"]?.string == decision.reason, "\(gate)")
        let reported = rule.decide(current: try GateRule.Side(json: #require(gate["current"]?.object)),
                                   candidate: try GateRule.Side(json: #require(gate["candidate"]?.object)))
        #expect(reported == decision)
    }

    /// After a promotion the rollback rule compared the two phases, as the library decides on them
    /// with the bounds of examples/banking/retrain.json, and the deploys say what it did.
    @Test func theRollbackRuleCheckedThePromotion() async throws {
        let run = try await Self.run()
        guard run.json("gate.json")?["promote"] == true else {
            #expect(run.json("rollback.json") == nil && run.jsonl("deploys.jsonl").isEmpty)
            return
        }
        let record = try #require(run.json("rollback.json"), "the rollback rule ran:\n\(run.log)")
        let policy = try DomainPolicy.load(path: Self.root.appendingPathComponent("examples/banking/policy.json").path)
        var settings = EvaluationSettings(metric: policy.metric)
        settings.topicField = "metadata.topic"
        settings.requiresKnownTopics = false
        settings.topicFromJudge = true  // as loop-eval rollback reads traffic
        let figures = ["judged-1.jsonl", "judged-2.jsonl"].map { name in
            EvaluationFigures(answers: AnswerSet(paths: [run.folder.appendingPathComponent(name).path], policy: policy,
                                                 settings: settings).answers, topics: policy.topics)
        }
        let recipes = try #require(try JSONParser.parse(String(contentsOf: Self.root.appendingPathComponent("examples/banking/retrain.json"),
                                                               encoding: .utf8)).object)
        let thresholds = RollbackThresholds(
            maxPassRateDrop: try #require(recipes.value(atPath: "rollback.max_pass_rate_drop")?.double),
            minRecords: Int(try #require(recipes.value(atPath: "rollback.min_records")?.double)))
        let decision = RollbackRule(thresholds: thresholds, policy: policy).decide(before: figures[0], after: figures[1])
        #expect(record["rollback"]?.bool == decision.rollback && record["reason"]?.string == decision.reason, "\(record)")
        let events = run.jsonl("deploys.jsonl").compactMap { $0["event"]?.string }
        #expect(events == (decision.rollback ? ["promoted", "rolled_back"] : ["promoted"]))
    }

    /// Every pair names where its chosen answer came from; the summary the report shows counts them;
    /// a neighbour's or a sampled answer was taught only as the judge passed it.
    @Test func everyPairNamesItsSource() async throws {
        let run = try await Self.run()
        let pairs = run.jsonl("pairs.jsonl")
        guard !pairs.isEmpty else { return }
        let summary = try #require(run.json("pairs-summary.json"))
        var counts: [String: Int] = [:]
        for pair in pairs where pair["source"] == "traffic" { counts[pair["chosen_from"]?.string ?? "?", default: 0] += 1 }
        #expect(summary["chosen_from"] == .object(JSONObject(counts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })))
        #expect(summary["base_pairs"] == JSONValue(pairs.count { $0["source"] == "base" }))
        let judged = run.jsonl("candidates-judged.jsonl")
        for pair in pairs where ["neighbour", "sample"].contains(pair["chosen_from"]?.string) {
            let chosen = pair["chosen"]?[0]?["content"]
            #expect(judged.contains { record in
                guard record["answer"] == chosen, let verdict = record["restrict_to_banking"] else { return false }
                if let node = verdict["nodes"]?["correct"] { return node["decision"] == 1 }
                return verdict["pass"] == true
            }, "\(pair)")
        }
    }
}
