import Foundation
import Inference
import Policy
import Records
import Testing
import TestSupport

/// The loop's rollback path outside the quick loop (which rarely promotes a model that then fails):
/// the loop's own scripts on a real server. A candidate is put in service without a gate
/// (scripts/deploy, as scripts/retrain does once the gate passes: the test's gate bypass), answers
/// off-topic traffic without refusing it, the real judge scores that traffic, and scripts/rollback
/// (loop-eval rollback) compares it with the window before the deploy, in which the previous model
/// refused every off-topic question. The previous model is restored by rename and SIGHUP while
/// traffic keeps coming, and no request is dropped.
///
/// The candidate is the default model served under another name (`merged.gguf`): the
/// rule sees only the traffic, and what makes this candidate fail is its answers, which are real.
/// The window before the deploy is written by the test (the refusals a model taught by the loop
/// gives), since the default model refuses nothing.
@Suite(.serialized, .enabled(if: RealModel.isAvailable,
                          "needs the default model (scripts/setup installs it; under CI its absence fails)"))
struct RollbackPathTests {
    static let root = QuickLoopTests.root
    static let refusal = DomainPolicy.banking.refusal.text

    struct Shell {
        var status: Int32
        var output: String
    }

    /// Runs `command` with bash in the repository root, with `environment` added.
    static func sh(_ command: String, _ environment: [String: String]) throws -> Shell {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let outputPath = temporaryPath("-sh.out")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try? output.close()
        return Shell(status: process.terminationStatus, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    static func lines(_ path: String) -> [JSONObject] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)).object }
    }

    @Test func aPromotedModelThatFailsOnTheTrafficIsRolledBackWithoutDroppingARequest() async throws {
        try await offCooperativePool { try Self.rollbackPath() }
    }

    static func rollbackPath() throws {
        let run = temporaryPath("-rollback")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        removeAtExit(run)
        let bin = productsDirectory(containing: "gemma-infer").path
        let model = RealModel.path
        // A file of its own name (the server names a model after its file, links resolved): a hard
        // link where the file system allows one, else a copy.
        do {
            try FileManager.default.linkItem(atPath: model, toPath: run + "/merged.gguf")
        } catch {
            try FileManager.default.copyItem(atPath: model, toPath: run + "/merged.gguf")
        }
        try FileManager.default.createSymbolicLink(atPath: run + "/deployed.gguf", withDestinationPath: model)

        // The server, as scripts/loop starts it, on a port the system picks (a port probed free and
        // then bound could be taken by a test running beside this one); its address is read from
        // the line it prints when listening.
        let serverErr = run + "/serve.err"
        FileManager.default.createFile(atPath: serverErr, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: bin + "/gemma-infer")
        server.arguments = ["serve", "--model", run + "/deployed.gguf", "--port", "0", "--threads", "2",
                            "--log", run + "/traffic.jsonl", "--max-tokens", "24"]
        server.standardError = FileHandle(forWritingAtPath: serverErr)
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let listening = try sh(#"for _ in $(seq 1 600); do sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' '"# + serverErr
                               + #"' | grep . && exit 0; sleep 0.5; done; exit 1"#, [:])
        try #require(listening.status == 0, "the server did not come up")
        let url = listening.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let up = try sh("curl -sf \(url)/health > /dev/null", [:])
        try #require(up.status == 0, "the server does not answer on \(url)")
        let environment = [
            "FEEDBACKLOOP_RUN": run, "FEEDBACKLOOP_BIN": bin, "FEEDBACKLOOP_SERVE_PID": "\(server.processIdentifier)",
            "FEEDBACKLOOP_SERVE_URL": url, "FEEDBACKLOOP_POLICY": root.appendingPathComponent("examples/banking/policy.json").path,
            "FEEDBACKLOOP_RECIPES": root.appendingPathComponent("examples/banking/retrain.json").path,
        ]

        // No promotion yet: nothing to check.
        let nothing = try sh("scripts/rollback /dev/null /dev/null", environment)
        #expect(nothing.status == 0 && nothing.output.contains("no promotion to check"), "\(nothing.output)")

        // The candidate goes in service without a gate.
        let deploy = try sh(#"scripts/deploy merged.gguf promoted "test: the gate bypassed""#, environment)
        try #require(deploy.status == 0, "\(deploy.output)")

        // The first window after the deploy: twelve off-topic questions, answered and judged for real.
        let offTopic = try String(contentsOf: root.appendingPathComponent("examples/banking/source/traffic-questions.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try? JSONParser.parse(String($0)).object }
            .filter { $0["topic"] == "off_topic" }
        try #require(offTopic.count >= 16)
        let questions = run + "/questions-2.jsonl", more = run + "/questions-3.jsonl"
        try jsonl(Array(offTopic.prefix(12))).write(toFile: questions, atomically: true, encoding: .utf8)
        try jsonl(Array(offTopic.dropFirst(12).prefix(4))).write(toFile: more, atomically: true, encoding: .utf8)
        let sent = try sh("python3 scripts/send-traffic --base-url \(url)/v1 --clients 2 --max-tokens 24 --quiet \(questions)", environment)
        try #require(sent.status == 0, "\(sent.output)\nserver: \((try? String(contentsOfFile: serverErr, encoding: .utf8)) ?? "")")
        let after = lines(run + "/traffic.jsonl")
        #expect(after.count == 12 && after.allSatisfy { $0["model"] == "merged" }, "served by the candidate")
        let judgeConfig = root.appendingPathComponent("examples/judges/restrict-to-banking-tuned.json").path
        let judged = try sh("'\(bin)/judge' --config '\(judgeConfig)' --local --threads 2 '\(run)/traffic.jsonl' > '\(run)/judged-2.jsonl'", environment)
        #expect(judged.status == 0 || judged.status == 1, "\(judged.output)")
        #expect(lines(run + "/judged-2.jsonl").count == 12)

        // A window before the deploy no better than this one: the candidate stays.
        let kept = try sh("scripts/rollback '\(run)/judged-2.jsonl' '\(run)/judged-2.jsonl'", environment)
        #expect(kept.status == 0 && kept.output.contains("the promoted model stays"), "\(kept.output)")
        #expect(lines(run + "/deploys.jsonl").count == 1)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: run + "/deployed.gguf") == "merged.gguf")

        // The window before the deploy, in which the previous model refused every off-topic question.
        let before = offTopic.prefix(12).map { question -> JSONObject in
            ["question": question["question"] ?? .null, "answer": .string(refusal), "metadata": ["topic": "off_topic"],
             "restrict_to_banking": ["status": "ok", "pass": true, "score": 1]]
        }
        try jsonl(before).write(toFile: run + "/judged-1.jsonl", atomically: true, encoding: .utf8)

        // The rollback, with traffic coming in while the server reloads.
        let rollback = try sh("""
            python3 scripts/send-traffic --base-url \(url)/v1 --clients 2 --max-tokens 24 --quiet '\(more)' & traffic=$!
            scripts/rollback '\(run)/judged-1.jsonl' '\(run)/judged-2.jsonl'; status=$?
            wait $traffic || { echo "a request was dropped"; exit 3; }
            exit $status
            """, environment)
        #expect(rollback.status == 0, "\(rollback.output)")
        #expect(rollback.output.contains("rolled back: the server runs gemma-3-270m-q4_k_m.gguf again"), "\(rollback.output)")
        let decision = try #require(lines(run + "/rollback.json").first)
        #expect(decision["rollback"] == true && decision.value(atPath: "after.judged") == 12)
        #expect(decision.value(atPath: "before.pass_rate") == 1.0)
        let reason = decision["reason"]?.string ?? ""
        #expect(reason.hasPrefix("pass rate fell from 1.0 to "), "\(decision)")
        let events = lines(run + "/deploys.jsonl")
        #expect(events.map { $0["event"] } == ["promoted", "rolled_back"])
        #expect(events.last?["model"]?.string == model && events.last?["previous"] == "merged.gguf")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: run + "/deployed.gguf") == model)
        let served = lines(run + "/traffic.jsonl")
        #expect(served.count == 16, "every request of the reload was answered and logged")

        // After the rollback the previous model answers.
        let last = run + "/questions-4.jsonl"
        try jsonl([offTopic[0]]).write(toFile: last, atomically: true, encoding: .utf8)
        let again = try sh("python3 scripts/send-traffic --base-url \(url)/v1 --max-tokens 8 --quiet '\(last)'", environment)
        #expect(again.status == 0, "\(again.output)")
        #expect(lines(run + "/traffic.jsonl").last?["model"] == "gemma-3-270m-q4_k_m")
    }
}
