import Foundation
import Gemma
import Inference
import Records
import TensorKit
import Testing
@testable import Judging

/// End-to-end on the real default model (Gemma 3 270M): runs when the model is installed, and under CI
/// (`CI` set), where a missing model is a failure. A few records only: each is a forward pass.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: DefaultModel.path) || ProcessInfo.processInfo.environment["CI"] != nil))
struct LocalBackendTests {
    static let backend: Result<LocalBackend, Error> = Result {
        let pool = try ComputePool(threads: 2)
        return try LocalBackend(model: try ModelLoader.load(path: DefaultModel.path, pool: pool))
    }

    static func records() throws -> [JSONObject] {
        try String(contentsOfFile: try Fixture.path("judge-eval-head.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(3).map { try #require(try JSONParser.parse(String($0)).object) }
    }

    @Test func scoreTokensCarryTheProbability() throws {
        let backend = try Self.backend.get()
        var options = JudgeOptions()
        options.wantsLogprobs = true
        options.wantsExplanation = false
        let judge = try Judge(config: try Fixture.judge("restrict-to-banking.json"), backend: backend, options: options)
        var scores: [Double] = []
        for record in try Self.records() {
            let verdict = judge.evaluate(record)
            #expect(verdict.status == Verdict.Status.ok, "\(verdict.json)")
            let distribution = try #require(verdict.distribution)
            // Most of the next-token probability after {"score": falls on "0" and "1".
            #expect(distribution.coveredMass > 0.5)
            #expect(abs(distribution.probabilities.map(\.probability).reduce(0, +) - 1) < 1e-9)
            let score = try #require(verdict.score)
            #expect(score > 0 && score < 1)
            #expect(verdict.decision?.value == (score >= 0.5 ? 1 : 0))
            #expect(verdict.model == "gemma-3-270m-q4_k_m")
            #expect(verdict.promptTokens > 500)
            scores.append(score)
        }
        // The same prompt again gives the same probabilities, whether or not the KV cache is reused.
        let again = judge.evaluate(try Self.records()[0]).score
        #expect(again.map { abs($0 - scores[0]) < 1e-4 } == true)
    }

    @Test func customTemplateAndExplanation() throws {
        let backend = try Self.backend.get()
        var options = JudgeOptions()
        options.wantsLogprobs = true
        options.wantsExplanation = true
        let judge = try Judge(config: try Fixture.judge("restrict-to-banking-naive.json"), backend: backend, options: options)
        let verdict = judge.evaluate(try Self.records()[0])
        #expect(verdict.status == Verdict.Status.ok, "\(verdict.json)")
        #expect(verdict.distribution != nil)
        #expect(verdict.completionTokens >= 1)
        #expect(verdict.completionTokens <= backend.maxExplanationTokens + 1)
    }
}

extension LocalBackendTests {
    /// `judge --training-pairs` prompts, encoded as orpo-train encodes them (BOS, then the text with
    /// special tokens parsed), are the very ids the local backend scores: training moves the
    /// probabilities the judge reads.
    @Test func trainingPairPromptsEncodeToTheIdsTheBackendScores() throws {
        let backend = try Self.backend.get()
        let tokenizer = backend.loaded.tokenizer
        for file in ["restrict-to-banking.json", "restrict-to-banking-naive.json"] {
            let config = try Fixture.judge(file)
            let maker = try JudgeTrainingPairs(config: config, labelField: "label")
            for record in try Self.records() {
                let pair = try #require(try maker.pairs(for: record).first)
                let values = try config.promptValues(in: record).get()
                let prompt = PromptBuilder(config: config).prompt(values: values)
                let scored = try backend.template.encode(prompt.messages, tokenizer: tokenizer)
                    + tokenizer.encode(prompt.replyPrefix, addBOS: false, parseSpecial: false)
                let trained = [tokenizer.bosID] + tokenizer.encode(try #require(pair["prompt"]?.string), addBOS: false, parseSpecial: true)
                #expect(trained == scored, "\(file)")
            }
        }
    }
}
