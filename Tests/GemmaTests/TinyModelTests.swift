import Foundation
import Gemma
import TensorKit
import TestSupport
import Testing

/// Tiny Gemma 1, 2 and 3 checkpoints written by HF transformers, with its logits and greedy tokens
/// (scripts/golden-tiny-gemma.py): Gemma 1 in BF16 and sharded, Gemma 2 in F16 with soft-capping,
/// Gemma 3 in F32 with q/k norms and two RoPE bases; all with grouped KV heads and (2, 3) a sliding
/// window of 4 keys under a 12-token prompt.
@Suite struct TinyModelTests {
    struct Expected: Decodable {
        let ids: [Int]
        let logits: [[Float]]
        let greedy: [Int]
    }

    static let pool = try! ComputePool(threads: 2)

    static func fixture(_ arch: String) throws -> (GemmaModel, Expected) {
        let dir = SharedFixtures.path("tiny-\(arch)")
        let model = try ModelLoader.loadModel(path: dir, pool: pool, precision: .exact)
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        return (model, expected)
    }

    @Test(arguments: ["gemma", "gemma2", "gemma3"])
    func logitsOfEveryPositionMatchTransformers(_ arch: String) throws {
        let (model, expected) = try Self.fixture(arch)
        #expect(model.config.architecture.rawValue == arch)
        let cache = KVCache(config: model.config)
        let logits = try model.forward(expected.ids, cache: cache, logits: .all)
        let V = model.config.vocabularySize
        var worst: Float = 0
        for (t, row) in expected.logits.enumerated() {
            for v in 0..<V { worst = max(worst, abs(logits[t * V + v] - row[v])) }
        }
        #expect(worst < 2e-4, "max |Δlogit| = \(worst)")
    }

    @Test(arguments: ["gemma", "gemma2", "gemma3"])
    func greedyDecodingWithTheKVCacheMatchesTransformers(_ arch: String) throws {
        let (model, expected) = try Self.fixture(arch)
        let cache = KVCache(config: model.config)
        var logits = try model.forward(expected.ids, cache: cache)
        var got: [Int] = []
        for _ in expected.greedy {
            let next = Sampler.argmax(logits)
            got.append(next)
            logits = try model.forward([next], cache: cache)
        }
        #expect(got == expected.greedy)
    }

    /// Token-by-token decoding and chunked prefill must give the logits of one full pass: the cache,
    /// the positions and the sliding-window bounds line up across calls.
    @Test(arguments: ["gemma2", "gemma3"])
    func incrementalAndChunkedPassesEqualOnePass(_ arch: String) throws {
        let (model, expected) = try Self.fixture(arch)
        let V = model.config.vocabularySize
        let full = try model.forward(expected.ids, cache: KVCache(config: model.config), logits: .all)

        let stepCache = KVCache(config: model.config, initialCapacity: 1)
        for (t, id) in expected.ids.enumerated() {
            let row = try model.forward([id], cache: stepCache)
            for v in 0..<V { #expect(abs(row[v] - full[t * V + v]) < 1e-4) }
        }

        model.chunkSize = 5
        defer { model.chunkSize = 512 }
        let chunked = try model.forward(expected.ids, cache: KVCache(config: model.config), logits: .all)
        for i in 0..<full.count { #expect(abs(chunked[i] - full[i]) < 1e-4) }
    }

    @Test func contextOverflowAndBadTokensAreErrors() throws {
        let (model, _) = try Self.fixture("gemma3")
        let cache = KVCache(config: model.config, limit: 4)
        #expect(throws: GemmaError.contextOverflow(needed: 5, limit: 4)) {
            try model.forward([2, 5, 6, 7, 8], cache: cache)
        }
        #expect(throws: GemmaError.tokenOutOfRange(id: 128, vocabularySize: 128)) {
            try model.forward([2, 128], cache: KVCache(config: model.config))
        }
        #expect(throws: GemmaError.emptyPrompt) { try model.forward([], cache: KVCache(config: model.config)) }
    }
}
