import Foundation
import Gemma
import Inference
import Records
import TensorKit
import Testing
@testable import Judging
import TestSupport

/// End-to-end on the real default model (Gemma 3 270M): runs when the model is installed, and under CI
/// (`CI` set), where a missing model is a failure. A few records only: each is a forward pass.
@Suite(.enabled(if: RealModel.isAvailable),
       .serialized)
struct LocalBackendTests {
    static let backend: Result<LocalBackend, Error> = Result {
        let pool = try ComputePool(threads: 2)
        return try LocalBackend(model: try ModelLoader.load(path: RealModel.path, pool: pool))
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
        // The same prompt again gives the same probabilities, whether or not the KV cache is reused:
        // within 1e-3, since prefill quantizes activations to 16 bits (on a CPU with VNNI) and a
        // cached prefix changes attention's summation order, which can move a value across a
        // rounding step (4e-4 measured; with 8 bits it was 0.02).
        let again = judge.evaluate(try Self.records()[0]).score
        #expect(again.map { abs($0 - scores[0]) < 1e-3 } == true, "\(String(describing: again)) vs \(scores[0])")
    }

    /// Issue 20, item 6: a record whose prompt cannot fit the context is an error verdict found
    /// from its byte count, at once (tokenizing 50 MB took 42 s and 5 GB); the next record is judged.
    @Test func aPromptTooLongForTheContextIsRefusedBeforeTokenizing() throws {
        let backend = try Self.backend.get()
        let judge = try Judge(config: try Fixture.judge("restrict-to-banking-naive.json"), backend: backend, options: JudgeOptions())
        let huge = JSONObject([("question", JSONValue.string("What is APR?")),
                               ("answer", JSONValue.string(String(repeating: "x", count: 50_000_000)))])
        let started = Date()
        let verdict = judge.evaluate(huge)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(verdict.status == Verdict.Status.error)
        let text = JSONSerializer.string(.object(verdict.json))
        #expect(text.contains("not tokenized"), "\(text)")
        #expect(judge.evaluate(try Self.records()[0]).status == Verdict.Status.ok)
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

    /// The model with float32 activations in every product: a prompt run in one pass and the same
    /// prompt run in pieces then agree to float rounding. (The default 8-bit activations of
    /// single-token passes move a rare token's log-probability by up to ~0.07, too much for an exact
    /// comparison of two ways of computing it.)
    static let exactBackend: Result<LocalBackend, Error> = Result {
        let pool = try ComputePool(threads: 2)
        return try LocalBackend(model: try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact))
    }

    /// Labels of several tokens, some starting others ("1" and "10"; "yes" and "yes, partly"): each
    /// label's log-probability is its whole sequence's, as the generator scores that completion in one
    /// pass, less what goes on into a longer label; and the cache is back to the prompt afterwards.
    @Test func multiTokenLabelsScoreTheirWholeSequence() throws {
        let backend = try Self.exactBackend.get()
        let tokenizer = backend.loaded.tokenizer
        let prompt = JudgePrompt(messages: [ChatMessage(role: "user", content: """
            Question: What is the capital of France? Answer: Paris. Rate the answer from 1 to 10 and say \
            whether it is right (yes, no, or yes, partly). Reply {"score": <rating>}.
            """)], replyPrefix: #"{"score": "#)
        let promptIDs = try backend.template.encode(prompt.messages, tokenizer: tokenizer)
            + tokenizer.encode(prompt.replyPrefix, addBOS: false, parseSpecial: false)
        var whole: [String: Double] = [:]
        func sequenceProbability(_ label: String) throws -> Double {
            if let p = whole[label] { return p }
            let ids = tokenizer.encode(label, addBOS: false, parseSpecial: false)
            let p = exp(Double(try backend.loaded.generator.scoreCompletion(promptIDs: promptIDs, completionIDs: ids).sum))
            whole[label] = p
            return p
        }
        let scales = [
            ScoreScale.numeric(["1", "2", "10"]),
            ScoreScale(key: "score", options: [.init(label: "no", value: 0), .init(label: "yes, partly", value: 0.5),
                                               .init(label: "yes", value: 1)]),
        ]
        for scale in scales {
            let labels = try backend.labelTokens(scale)
            #expect(labels.contains { $0.ids.count > 1 })
            let request = BackendRequest(prompt: prompt, scale: scale, wantsLogprobs: true, wantsExplanation: false)
            let scored = try #require(try backend.complete(request).scoreLogprobs)
            #expect(scored.map(\.token) == scale.labels)
            for (label, logprob) in scored {
                let longer = try scale.labels.filter { $0 != label && $0.hasPrefix(label) }.map(sequenceProbability)
                let expected = try sequenceProbability(label) - longer.reduce(0, +)
                #expect(abs(exp(logprob) - expected) < 1e-3 * max(expected, 1e-4), "\(label): \(exp(logprob)) vs \(expected)")
            }
            // The cache holds the prompt again: the same request gives the same reply.
            let again = try #require(try backend.complete(request).scoreLogprobs)
            for (a, b) in zip(scored, again) { #expect(abs(exp(a.logprob) - exp(b.logprob)) < 1e-4, "\(a) vs \(b)") }
        }
    }

    @Test func exclusiveProbabilitiesTakeOutLongerLabels() {
        // "1" (0.5) is extended by "10" (0.3), which is extended by "100" (0.1); "2" stands alone;
        // "yes" (0.6) is extended by "yes, partly" (0.2) and "yes, fully" (0.1), which share "yes,".
        let numbers = LocalBackend.exclusive([log(0.5), log(0.3), log(0.1), log(0.2)], ids: [[1], [1, 0], [1, 0, 0], [2]])
        let words = LocalBackend.exclusive([log(0.6), log(0.2), log(0.1)], ids: [[5], [5, 6, 7], [5, 6, 8]])
        for (got, want) in zip(numbers + words, [0.2, 0.2, 0.1, 0.2, 0.3, 0.2, 0.1]) {
            #expect(abs(exp(got) - want) < 1e-12)
        }
        // Rounding that leaves nothing for the shorter label gives it no probability, not NaN.
        #expect(exp(LocalBackend.exclusive([log(0.3), log(0.3)], ids: [[1], [1, 0]])[0]) == 0)
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
