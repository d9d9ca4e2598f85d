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
        let requests = Self.cases.map { $0.request(loaded.tokenizer.encode($0.prompt, addBOS: true, parseSpecial: true)) }
        let alone = try requests.map { try loaded.generator.generate($0) }

        // The first step waits until every request has either joined or ended in its prompt run
        // (none of these does), so that all who joined step together however loaded the machine
        // is. A joined request cannot end before that step, so `ended` counts only the latter.
        let ended = Counter()
        let held = CancelFlag()  // set: the first step has been held
        let batcher = DecodeBatcher(generator: loaded.generator) { batcher in
            guard !held.isSet else { return }
            held.set()
            for _ in 0..<24_000 where batcher.memberCount + ended.value < requests.count { usleep(5000) }  // 2 min at most
        }
        let together = try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask {
                    try await offCooperativePool {
                        defer { ended.increment() }
                        return (i, try batcher.generate(request, onPiece: nil))
                    }
                }
            }
            var results = [GenerationResult?](repeating: nil, count: requests.count)
            for try await (i, r) in group { results[i] = r }
            return results.compactMap { $0 }
        }
        #expect(batcher.largestBatch == requests.count, "all four were taken in at the same step")
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

/// A count shared by the requests' threads and the stepping thread.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}
