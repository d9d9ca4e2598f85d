import Foundation
import Gemma
import Inference
import Records
import TensorKit
import TestSupport
import Testing
@testable import Judging

/// A decomposed judge on the real default model (Gemma 3 270M), no adapter: each node is scored
/// from the probabilities of "0" and "1" alone, a record's node prompts share their common part in
/// the KV cache, and both shortcuts give what the plain path gives. Runs when the model is
/// installed, and under CI, where a missing model is a failure.
@Suite(.enabled(if: RealModel.isAvailable),
       .serialized)
struct NodeLocalTests {
    /// Float32 activations in every product, so that the same prompt computed in other pieces agrees
    /// to float rounding (LocalBackendTests.exactBackend says why).
    static let exact: Result<LocalBackend, Error> = Result {
        try LocalBackend(model: try ModelLoader.load(path: RealModel.path, pool: try ComputePool(threads: 2), precision: .exact))
    }

    static func records() throws -> [JSONObject] {
        try String(contentsOfFile: try Fixture.path("judge-eval-head.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(4).map { try #require(try JSONParser.parse(String($0)).object) }
    }

    static func judge(_ backend: LocalBackend, allNodes: Bool = true) throws -> Judge {
        var options = JudgeOptions()
        options.wantsLogprobs = true
        options.wantsExplanation = false
        options.allNodes = allNodes
        return try Judge(config: try Fixture.judge("restrict-to-banking-nodes.json"), backend: backend, options: options)
    }

    /// P(yes) of each node of each record, read from the verdict.
    static func probabilities(_ verdict: Verdict) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for node in try #require(verdict.nodes) {
            let p: Double = try #require(node.probability)
            out[node.name] = p
        }
        return out
    }

    @Test func nodesCarryTheirProbabilityAndDecision() throws {
        let backend = try Self.exact.get()
        let judge = try Self.judge(backend, allNodes: false)
        for record in try Self.records() {
            let verdict = judge.evaluate(record)
            #expect(verdict.status == .ok, "\(verdict.json)")
            let nodes = try #require(verdict.nodes)
            #expect(nodes.first?.name == "topic")
            for node in nodes {
                let p = try #require(node.probability)
                #expect(p > 0 && p < 1)
                #expect(node.decision == (p >= 0.5 ? 1 : 0))
            }
            // The rule over the decisions is the score.
            let d = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.decision == 1) })
            let expected = d["topic"]! ? (!d["declined"]! && d["correct"] == true) : d["declined"]!
            #expect(verdict.score == (expected ? 1 : 0))
            // `correct` only when the rule reaches it.
            #expect((d["correct"] != nil) == (d["topic"]! && !d["declined"]!))
            #expect(verdict.model == "gemma-3-270m-q4_k_m")
        }
    }

    /// The node prompts of consecutive records run only their suffix after the prefix the previous
    /// prompt left in the cache; the same prompts each run from the first token give the same
    /// probabilities.
    @Test func sharedPrefixEqualsSeparateEvaluation() throws {
        let backend = try Self.exact.get()
        let judge = try Self.judge(backend)
        let records = try Self.records()
        backend.forgetCache()
        let shared = try records.map { try Self.probabilities(judge.evaluate($0)) }
        var separate: [[String: Double]] = []
        for record in records {
            var values: [String: Double] = [:]
            for node in judge.config.nodes {
                backend.forgetCache()
                let prompt = try node.prompt(for: record, shared: judge.config.recordFields).get()
                let reply = try backend.complete(BackendRequest(prompt: prompt, scale: node.scale, wantsLogprobs: true,
                                                                wantsExplanation: false, scoreTokensOnly: true))
                let logprobs = try #require(reply.scoreLogprobs)
                values[node.name] = try #require(ScoreDistribution(logprobs: logprobs, scale: node.scale)).probabilities[1].probability
            }
            separate.append(values)
        }
        for (a, b) in zip(shared, separate) {
            #expect(a.keys.sorted() == ["correct", "declined", "topic"])
            for (name, p) in a { #expect(abs(p - b[name]!) < 1e-4, "\(name): shared \(p), separate \(b[name]!)") }
        }
    }

    /// The score tokens' logits alone, normalised over them, against the full head's softmax
    /// renormalised over the same tokens: the same prompt on the same cache.
    @Test func scoreTokensOnlyEqualsTheFullSoftmaxRenormalised() throws {
        let backend = try Self.exact.get()
        let config = try Fixture.judge("restrict-to-banking-nodes.json")
        for record in try Self.records().prefix(2) {
            for node in config.nodes {
                let prompt = try node.prompt(for: record, shared: config.recordFields).get()
                func ask(_ only: Bool) throws -> ScoreDistribution {
                    let reply = try backend.complete(BackendRequest(prompt: prompt, scale: node.scale, wantsLogprobs: true,
                                                                    wantsExplanation: false, scoreTokensOnly: only))
                    let logprobs = try #require(reply.scoreLogprobs)
                    return try #require(ScoreDistribution(logprobs: logprobs, scale: node.scale))
                }
                let fast = try ask(true), plain = try ask(false)
                #expect(abs(fast.coveredMass - 1) < 1e-9)
                #expect(plain.coveredMass < 1)
                for (f, p) in zip(fast.probabilities, plain.probabilities) {
                    #expect(abs(f.probability - p.probability) < 1e-5, "\(node.name): \(f.probability) vs \(p.probability)")
                }
            }
        }
    }

    /// The built `judge` with the shipped node config on a few records, every node asked.
    @Test func judgeCommandWithTheNodeConfig() async throws {
        let lines = try String(contentsOfFile: try Fixture.path("judge-eval-head.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
        let run = try await runTool("judge", ["--config", try Fixture.path("judges/restrict-to-banking-nodes.json"), "--local",
                                              "--model", RealModel.path, "--threads", "2", "--all-nodes"], stdin: lines)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.records.count == 3)
        for record in run.records {
            let verdict = try #require(record.verdict("restrict_to_banking"))
            #expect(verdict["status"] == "ok")
            let nodes = try #require(verdict["nodes"]?.object)
            #expect(nodes.members.map(\.key) == ["topic", "declined", "correct"])
            for (_, node) in nodes.members {
                let p = try #require(node["p"]?.double)
                #expect(node["decision"] == .int(p >= 0.5 ? 1 : 0))
            }
            #expect(verdict["decision"] == verdict["score"])
        }
    }
}
