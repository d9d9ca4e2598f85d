import Foundation
import Inference
import Records
import TestSupport
import Testing
@testable import Judging

/// The built `judge` against the built `gemma-infer serve` on the loopback interface, and the same
/// records judged in process (`--local`), both on the real default model. Runs when the model is
/// installed, and under CI (`CI` set), where a missing model is a failure. Three records and one
/// without an answer: each HTTP judgement is one ~770-token prefill, a few seconds in all.
@Suite(.enabled(if: RealModel.isAvailable))
struct EndToEndTests {
    /// Three judge-eval records, with one lacking its answer put in the middle.
    static func input() throws -> (text: String, ids: [String]) {
        var lines = try String(contentsOfFile: try Fixture.path("judge-eval-head.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(3).map(String.init)
        lines.insert(#"{"id": "no-answer", "question": "how do i close my savings account"}"#, at: 2)
        let ids = try lines.map { try #require(try JSONParser.parse($0).object?["id"]?.string) }
        return (lines.joined(separator: "\n") + "\n", ids)
    }

    /// The HTTP backend reads the score distribution from the server's `top_logprobs` at the token
    /// after the prefilled `{"score": `; the local backend reads it from the same position's logits.
    /// Same model, same prompt tokens, so the same verdicts. The expected scores differ only by
    /// float rounding: the local backend runs each prompt in chunks after the prefix it shares with
    /// the previous one, the server runs it whole, so the matrix products add in another order, and
    /// the server's log-probabilities pass through JSON. Measured differences are at most 2e-6 (the
    /// outputs' 6-digit rounding); the tolerance is 1e-3 on a 0-1 score: loose against rounding,
    /// tight against a different context (left to write its reply's opening itself, the server's
    /// model put 0.38 on a record scored 0.31 here).
    @Test func httpAndLocalBackendsAgree() async throws {
        let config = try Fixture.path("judges/restrict-to-banking.json")
        let (input, ids) = try Self.input()
        let server = try ServeProcess(model: RealModel.path)
        let http = try await runTool("judge", ["--config", config, "--base-url", server.baseURL, "--model", "gemma-3-270m",
                                               "--logprobs", "--prefill", "--max-tokens", "4", "--timeout", "600"],
                                     stdin: input)
        server.stop()
        let local = try await runTool("judge", ["--config", config, "--local", "--model", RealModel.path, "--threads", "2"],
                                stdin: input)
        for run in [http, local] {
            #expect(run.status == 1, "\(run.stderr)")  // the record without an answer
            #expect(run.records.map { $0["id"]?.string ?? "?" } == ids)
            #expect(run.stderr.contains("the record has no field \"answer\"") && run.stderr.contains("line 3"), "\(run.stderr)")
        }
        let httpVerdicts = http.records.map { $0.verdict("restrict_to_banking") ?? [:] }
        let localVerdicts = local.records.map { $0.verdict("restrict_to_banking") ?? [:] }
        #expect(httpVerdicts.map { $0["status"]?.string } == ["ok", "ok", "error", "ok"])
        #expect(localVerdicts.map { $0["status"]?.string } == ["ok", "ok", "error", "ok"])
        for (i, (h, l)) in zip(httpVerdicts, localVerdicts).enumerated() where i != 2 {
            #expect(h["decision"] != nil && h["decision"] == l["decision"], "record \(i): \(h) vs \(l)")
            #expect(h["pass"] == l["pass"], "record \(i)")
            let hs = try #require(h["score"]?.double), ls = try #require(l["score"]?.double)
            #expect(abs(hs - ls) < 1e-3, "record \(i): http \(hs), local \(ls)")
            // Both labels were among the server's top alternatives.
            #expect((h["covered_mass"]?.double ?? 0) > 0.5, "record \(i): \(h)")
            #expect(h["model"] == "gemma-3-270m")
            #expect(l["model"] == "gemma-3-270m-q4_k_m")
        }
    }

    /// The repository root: this file is Tests/JudgingTests/EndToEndTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `judge --local --calibrate` with a shipped config on a labelled split, and the calibration
    /// its adapter was shipped with: (measured, shipped).
    static func calibrations(config: String, input: String, shipped: String, extra: [String] = []) async throws
        -> (measured: JSONObject, shipped: JSONObject) {
        let judges = root.appendingPathComponent("examples/judges")
        let run = try await runTool("judge", ["--config", judges.appendingPathComponent(config).path,
                                        "--local", "--model", RealModel.path, "--threads", "2"] + extra + ["--calibrate",
                                        root.appendingPathComponent("examples/banking/\(input)").path])
        #expect(run.status == 0, "\(run.stderr)")
        let measured = try #require(try JSONParser.parse(run.stdout).object?["calibration"]?.object, "\(run.stdout)")
        let shippedText = try String(contentsOf: judges.appendingPathComponent("adapters/\(shipped)"), encoding: .utf8)
        return (measured, try #require(try JSONParser.parse(shippedText).object?["calibration"]?.object))
    }

    /// The loop's judge as shipped (the tuned config and the adapter it names) on the held-out
    /// labelled records: the accuracy the project reports (at least the 90% it promises), as the
    /// calibration written when the adapter was made measured it. 208 short prompts, about 45 s.
    @Test func theShippedJudgeAdapterReproducesItsCalibration() async throws {
        let (measured, shipped) = try await Self.calibrations(
            config: "restrict-to-banking-tuned.json", input: "judge-eval.jsonl", shipped: "restrict-to-banking.calibration.json")
        let accuracy = try #require(measured["accuracy"]?.double)
        #expect(accuracy >= 0.9, "\(measured)")
        #expect(measured["records"] == 208 && measured["compared"] == 208)
        // Equal on the machine that made it; another CPU's kernels (no AVX2) may round a record
        // near P = 0.5 the other way, so two records of slack.
        let shippedAccuracy = try #require(shipped["accuracy"]?.double)
        #expect(abs(accuracy - shippedAccuracy) <= 0.01, "measured \(measured), shipped \(shipped)")
        #expect(measured["model"]?.string == "gemma-3-270m-q4_k_m+restrict-to-banking")
    }

    /// The node judge as shipped (its config names its adapter) on the node-labelled eval split,
    /// every node asked: the verdict's and each node's accuracy as its calibration file records
    /// them (two records of slack, as above). 330 records, about 35 s.
    @Test func theShippedNodeJudgeAdapterReproducesItsCalibration() async throws {
        let (measured, shipped) = try await Self.calibrations(
            config: "restrict-to-banking-nodes.json", input: "judge-nodes-eval.jsonl",
            shipped: "restrict-to-banking-nodes.calibration.json", extra: ["--all-nodes"])
        #expect(measured["records"] == 330 && measured["compared"] == 330)
        #expect(measured["model"]?.string == "gemma-3-270m-q4_k_m+restrict-to-banking-nodes")
        let accuracy = try #require(measured["accuracy"]?.double), shippedAccuracy = try #require(shipped["accuracy"]?.double)
        #expect(accuracy >= 0.9 && abs(accuracy - shippedAccuracy) <= 0.01, "measured \(measured), shipped \(shipped)")
        for node in ["topic", "declined", "correct"] {
            let m = try #require(measured["nodes"]?[node]?["accuracy"]?.double, "\(node)")
            let s = try #require(shipped["nodes"]?[node]?["accuracy"]?.double, "\(node)")
            #expect(abs(m - s) <= 0.01, "\(node): measured \(m), shipped \(s)")
        }
    }
}
