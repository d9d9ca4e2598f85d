// Token sampling: greedy, temperature, top-k, top-p and a repetition penalty, applied in the order
// HF transformers' logits processors use (penalty, temperature, top-k, top-p), with a seeded
// generator so that a run can be reproduced exactly.
import Foundation

/// Settings of one generation's sampling. Temperature 0 means greedy decoding.
public struct SamplingParameters: Codable, Sendable, Equatable {
    public var temperature: Float = 0
    /// Keep only the k most likely tokens; 0 turns it off.
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off.
    public var topP: Float = 1
    /// CTRL-style penalty on tokens already in the sequence (prompt included); 1 turns it off.
    public var repetitionPenalty: Float = 1
    /// OpenAI's penalties on the tokens generated so far (the prompt does not count): a token's
    /// logit is lowered by `frequencyPenalty` times its count plus `presencePenalty` once it has
    /// appeared. -2...2; 0 turns them off.
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    /// OpenAI's `logit_bias`: added to the token's logit before any other adjustment; -100...100.
    public var logitBias: [Int: Float] = [:]
    /// Seed of the random generator; nil draws one (the output record says which).
    public var seed: UInt64?

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1,
                frequencyPenalty: Float = 0, presencePenalty: Float = 0, logitBias: [Int: Float] = [:],
                seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.logitBias = logitBias
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case temperature, topK = "top_k", topP = "top_p", repetitionPenalty = "repetition_penalty"
        case frequencyPenalty = "frequency_penalty", presencePenalty = "presence_penalty", logitBias = "logit_bias", seed
    }

    public func validate() throws {
        guard temperature >= 0, temperature.isFinite else {
            throw GemmaError.invalidParameter(name: "temperature", message: "must be a number >= 0, got \(temperature)")
        }
        guard topK >= 0 else { throw GemmaError.invalidParameter(name: "top_k", message: "must be >= 0, got \(topK)") }
        guard topP > 0, topP <= 1 else {
            throw GemmaError.invalidParameter(name: "top_p", message: "must be in (0, 1], got \(topP)")
        }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw GemmaError.invalidParameter(name: "repetition_penalty", message: "must be > 0, got \(repetitionPenalty)")
        }
        for (name, value) in [("frequency_penalty", frequencyPenalty), ("presence_penalty", presencePenalty)]
        where !(-2...2).contains(value) {
            throw GemmaError.invalidParameter(name: name, message: "must be between -2 and 2, got \(value)")
        }
        for (id, bias) in logitBias.sorted(by: { $0.key < $1.key }) where id < 0 || !(-100...100).contains(bias) {
            throw GemmaError.invalidParameter(
                name: "logit_bias", message: "token \(id): the bias must be between -100 and 100 and the id >= 0, got \(bias)")
        }
    }
}

/// Decides which tokens constrained decoding may pick (`JSONTokenFilter`).
public protocol TokenFilter {
    func accepts(_ token: Int) -> Bool
    /// Sets the logit of every token `accepts` refuses to -infinity.
    func mask(_ logits: inout [Float])
}

/// xoshiro256** seeded through splitmix64: small, fast, and the same sequence on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// A float uniform in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Fills `buffer` with the next `buffer.count` values of `next()`, in one call (a module
    /// outside this one pays a call per `next()`).
    public mutating func fill(_ buffer: UnsafeMutableBufferPointer<UInt64>) {
        for i in buffer.indices { buffer[i] = next() }
    }
}

public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    public let seed: UInt64
    private var rng: SeededGenerator

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        seed = parameters.seed ?? UInt64.random(in: 0...UInt64(Int64.max))
        rng = SeededGenerator(seed: seed)
    }

    /// Picks the next token from `logits` (modified in place by the bias, the penalties and the
    /// temperature). `history` is the sequence so far, for the repetition penalty.
    public mutating func sample(_ logits: inout [Float], history: [Int]) -> Int {
        sample(&logits, history: history, outputCounts: [:], filter: nil) ?? Sampler.argmax(logits)
    }

    /// The same, with `outputCounts` (how often each token was generated so far) for the frequency
    /// and presence penalties, and restricted to the tokens `filter` accepts: the token is drawn as
    /// without the filter; one it refuses is removed and the draw repeated among the rest (top-k and
    /// top-p applied again to what remains); after 16 refusals (greedy: the 64 best refused) every
    /// token is tested, the refused ones masked, and the draw made among the accepted ones. nil
    /// when the filter accepts no token at all.
    public mutating func sample(_ logits: inout [Float], history: [Int], outputCounts: [Int: Int],
                                filter: (any TokenFilter)?) -> Int? {
        Self.adjust(&logits, parameters, history: history, outputCounts: outputCounts)
        if parameters.temperature == 0 {
            let top = Sampler.argmax(logits)
            guard let filter, !filter.accepts(top) else { return top }
            for id in Self.best(logits, count: 64).dropFirst() where filter.accepts(id) { return id }
            filter.mask(&logits)
            let id = Sampler.argmax(logits)
            return logits[id] > -.infinity ? id : nil
        }
        var cand = candidates(logits)
        if let filter {
            for _ in 0..<16 where !cand.isEmpty {
                let i = draw(cand)
                if filter.accepts(cand[i].id) { return cand[i].id }
                cand.remove(at: i)
            }
            filter.mask(&logits)
            cand = candidates(logits)
        }
        guard !cand.isEmpty else { return nil }
        return cand[draw(cand)].id
    }

    /// `logit_bias`, then the repetition penalty, then the frequency and presence penalties, in place.
    static func adjust(_ logits: inout [Float], _ p: SamplingParameters, history: [Int], outputCounts: [Int: Int]) {
        for (t, bias) in p.logitBias where t < logits.count { logits[t] += bias }
        if p.repetitionPenalty != 1 {
            for t in Set(history) where t >= 0 && t < logits.count {
                logits[t] = logits[t] > 0 ? logits[t] / p.repetitionPenalty : logits[t] * p.repetitionPenalty
            }
        }
        applyPenalties(&logits, counts: outputCounts, frequency: p.frequencyPenalty, presence: p.presencePenalty)
    }

    /// OpenAI's definition: `logit[t] -= frequency * count[t] + presence * (count[t] > 0 ? 1 : 0)`.
    public static func applyPenalties(_ logits: inout [Float], counts: [Int: Int], frequency: Float, presence: Float) {
        guard frequency != 0 || presence != 0 else { return }
        for (t, c) in counts where c > 0 && t >= 0 && t < logits.count {
            logits[t] -= frequency * Float(c) + presence
        }
    }

    /// Candidates of a draw, best first, temperature applied: tokens within 40 nats of the best
    /// (e^-40 of its probability is below any float32 sampling resolution), so that top-k/top-p
    /// sort hundreds of values, not the vocabulary. Empty when every logit is -infinity.
    private func candidates(_ logits: [Float]) -> [(id: Int, logit: Float)] {
        let p = parameters
        let inv = 1 / p.temperature
        var best = -Float.infinity
        for v in logits where v > best { best = v }
        guard best > -.infinity else { return [] }
        let floor = best - 40 * p.temperature
        var cand: [(id: Int, logit: Float)] = []
        for (i, v) in logits.enumerated() where v >= floor { cand.append((i, v * inv)) }
        cand.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        return cand
    }

    /// Draws among `all` (best first) after top-k and top-p; returns the index in `all`.
    private mutating func draw(_ all: [(id: Int, logit: Float)]) -> Int {
        let p = parameters
        let cand = p.topK > 0 && all.count > p.topK ? all[..<p.topK] : all[...]
        let m = cand[0].logit
        var probs = cand.map { expf($0.logit - m) }
        var total = probs.reduce(0, +)
        if p.topP < 1 {
            var acc: Float = 0
            var keep = probs.count
            for (i, q) in probs.enumerated() {
                acc += q / total
                if acc >= p.topP { keep = i + 1; break }
            }
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        var r = rng.nextUnitFloat() * total
        for (i, q) in probs.enumerated() {
            r -= q
            if r < 0 { return i }
        }
        return probs.count - 1
    }

    /// The ids of the `count` largest finite logits, best first (the lower id first on ties).
    static func best(_ logits: [Float], count: Int) -> [Int] {
        var top: [(id: Int, logit: Float)] = []
        top.reserveCapacity(count + 1)
        for (i, v) in logits.enumerated() where v > -.infinity {
            if top.count == count, let last = top.last, v <= last.logit { continue }
            let at = top.firstIndex { v > $0.logit } ?? top.count
            top.insert((i, v), at: at)
            if top.count > count { top.removeLast() }
        }
        return top.map(\.id)
    }

    /// Index of the largest value; the lowest index on ties.
    public static func argmax(_ x: [Float]) -> Int {
        var bi = 0
        var bv = -Float.infinity
        for (i, v) in x.enumerated() where v > bv {
            bv = v
            bi = i
        }
        return bi
    }
}
