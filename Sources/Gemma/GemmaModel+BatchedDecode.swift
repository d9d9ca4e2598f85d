// Batched decoding: one new token of each of B sequences in one forward call, as the continuous
// batching of vLLM and llama.cpp's server does it. Decoding one token is bound by reading the
// weights (~130 matrix-vector products); B sequences stepped together read them once for all B,
// so the server's throughput grows with the number of requests decoding at the same time.
import TensorKit

extension GemmaModel {
    /// Runs `tokens[i]` at position `caches[i].count` of sequence i, appends its keys and values
    /// to `caches[i]`, and returns the logits of each ([B][V]). The caches may hold different
    /// numbers of tokens; each sequence attends only to its own (sliding-window layers to its own
    /// last W keys). Every row is computed as `forward([tokens[i]], cache: caches[i])` computes
    /// it, so the logits equal one-at-a-time decoding exactly.
    ///
    /// The caches must be distinct and not in use elsewhere during the call (their working
    /// buffers serve the batch). Nothing is computed when a check fails: a token outside the
    /// vocabulary, a repeated cache, or a cache at its limit.
    public func forward(batch tokens: [Int], caches: [KVCache]) throws -> [[Float]] {
        guard !tokens.isEmpty else { throw GemmaError.emptyPrompt }
        guard tokens.count == caches.count else {
            throw GemmaError.invalidParameter(
                name: "caches", message: "\(caches.count) caches for \(tokens.count) tokens; one each is needed")
        }
        try checkTokens(tokens)
        var seen = Set<ObjectIdentifier>()
        for (i, cache) in caches.enumerated() {
            guard seen.insert(ObjectIdentifier(cache)).inserted else {
                throw GemmaError.invalidParameter(name: "caches", message: "cache \(i) appears twice in one batch")
            }
            try check(cache)
        }
        for cache in caches { try cache.reserve(cache.count + 1) }

        let segments = caches.enumerated().map { i, cache in Segment(cache: cache, row: i, count: 1, position: cache.count) }
        let logits = forwardRows(tokens, segments: segments, scratch: caches[0].scratch, logits: .all, rowExact: true)
        let vocab = config.vocabularySize
        return (0..<tokens.count).map { Array(logits[($0 * vocab)..<(($0 + 1) * vocab)]) }
    }
}
