import Foundation
import TestSupport
import Gemma
import Testing
@testable import Serving

/// Requests decoded together by the batcher get exactly the results they get alone: text, tokens,
/// finish reason and logprobs, with different prompts, lengths, samplers, stop strings, and
/// members leaving the batch at different steps.
@Suite struct DecodeBatcherTests {
    struct Case: Sendable {
        let prompt: String
        let request: (@Sendable ([Int]) -> GenerationRequest)
    }

    static let cases: [Case] = [
        Case(prompt: "say hi to the cat") { GenerationRequest(promptIDs: $0, maxTokens: 9) },
        Case(prompt: "the model is a cat of the user") {
            GenerationRequest(promptIDs: $0, maxTokens: 14, sampling: .init(temperature: 0.8, seed: 5), topLogprobs: 2)
        },
        Case(prompt: "a") {
            GenerationRequest(promptIDs: $0, maxTokens: 6, sampling: .init(temperature: 1.2, topK: 5, seed: 9))
        },
        Case(prompt: "is the cat at the inn on the mat") {
            GenerationRequest(promptIDs: $0, maxTokens: 20, sampling: .init(temperature: 0.7, topP: 0.9, seed: 1),
                              stop: ["e"])
        },
    ]

    @Test func requestsDecodedTogetherGetTheirResultsAlone() async throws {
        let loaded = try TinyServingModel.load()
        let batcher = DecodeBatcher(generator: loaded.generator)
        let requests = Self.cases.map { $0.request(loaded.tokenizer.encode($0.prompt, addBOS: true, parseSpecial: true)) }
        let alone = try requests.map { try loaded.generator.generate($0) }

        // Whichever request first gets a piece on the stepping thread holds that thread until all
        // four have run their prompts and are members: no one can finish before, and from then
        // on all four step together. (Pieces released by a prompt run on the request's own thread.)
        let gate = CancelFlag()  // set: the gate is open
        let hold: @Sendable (TextPiece) -> Bool = { _ in
            if Thread.current.name == DecodeBatcher.threadName && !gate.isSet {
                for _ in 0..<24_000 where batcher.memberCount < requests.count { usleep(5000) }  // at most 2 minutes
                gate.set()
            }
            return true
        }
        let together = try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask { try await offCooperativePool { (i, try batcher.generate(request, onPiece: hold)) } }
            }
            var results = [GenerationResult?](repeating: nil, count: requests.count)
            for try await (i, r) in group { results[i] = r }
            return results.compactMap { $0 }
        }
        // Which request joins first is a matter of timing, and a request that meets its stop or
        // its limit at the held step leaves before the others step: at least two stepped together.
        #expect(batcher.largestBatch >= 2 && batcher.largestBatch <= requests.count)
        #expect(together.count == alone.count)
        for (t, a) in zip(together, alone) {
            #expect(t.text == a.text)
            #expect(t.tokenIDs == a.tokenIDs)
            #expect(t.finishReason == a.finishReason)
            #expect(t.logprobs?.map(\.logprob) == a.logprobs?.map(\.logprob))
            #expect(t.logprobs?.map { $0.top.map(\.id) } == a.logprobs?.map { $0.top.map(\.id) })
        }
        #expect(alone[3].finishReason == .stop && alone[0].finishReason == .length, "the cases cover both ends")
    }

    @Test func aCancelledMemberLeavesWithoutDisturbingTheOthers() async throws {
        let loaded = try TinyServingModel.load()
        let batcher = DecodeBatcher(generator: loaded.generator)
        let ids = loaded.tokenizer.encode("the cat", addBOS: true, parseSpecial: true)
        let long = GenerationRequest(promptIDs: ids, maxTokens: 16, sampling: .init(temperature: 0.9, seed: 2))
        let expected = try loaded.generator.generate(long)
        async let kept = offCooperativePool { try batcher.generate(long, onPiece: nil) }
        async let cancelled = offCooperativePool {
            try batcher.generate(GenerationRequest(promptIDs: ids, maxTokens: 16), onPiece: { _ in false })
        }
        let (k, c) = try await (kept, cancelled)
        #expect(k.tokenIDs == expected.tokenIDs)
        #expect(c.finishReason == .stop && c.completionTokens < 16)
    }
}

