import Foundation
import Gemma
import TensorKit
import Testing
@testable import Training

/// PEFT's LoRA dropout: inverted dropout on the LoRA branch's input, masks reproducible from the
/// pass seed, gradients through the same masks, and no dropout without a seed (evaluation).
@Suite struct LoRADropoutTests {
    static let pool = try! ComputePool(threads: 2)
    typealias G = GradientCheck

    static func dropped(_ d: LoRADropout, _ x: [Float], rows: Int) -> [Float] {
        [Float](repeating: 0, count: x.count).mutated { out in
            d.forward(out: out, x: x, rows: rows, features: x.count / rows, pool: Self.pool)
        }
    }

    /// `adapter`'s factors with lora_dropout `probability`.
    static func dropping(_ adapter: LoRAAdapter, probability: Double) -> LoRAAdapter {
        var config = adapter.config
        config.loraDropout = probability
        return LoRAAdapter(config: config, layers: adapter.layers)
    }

    @Test func masksAreInvertedDropoutAndReproducible() throws {
        let p: Float = 0.25, N = 64, F = 100
        let d = try #require(LoRADropout(probability: p, passSeed: 5, layer: 3, role: .gate))
        let ones = [Float](repeating: 1, count: N * F)
        let out = Self.dropped(d, ones, rows: N)
        // Every value is dropped (0) or kept and scaled by 1 / (1 − p).
        #expect(out.allSatisfy { $0 == 0 || abs($0 - 1 / (1 - p)) < 1e-6 })
        let droppedFraction = Double(out.filter { $0 == 0 }.count) / Double(out.count)
        #expect(abs(droppedFraction - Double(p)) < 0.03, "dropped fraction \(droppedFraction)")
        #expect(Self.dropped(d, ones, rows: N) == out, "same seed, same mask")
        let otherPass = try #require(LoRADropout(probability: p, passSeed: 6, layer: 3, role: .gate))
        let otherRole = try #require(LoRADropout(probability: p, passSeed: 5, layer: 3, role: .up))
        let otherLayer = try #require(LoRADropout(probability: p, passSeed: 5, layer: 4, role: .gate))
        for other in [otherPass, otherRole, otherLayer] { #expect(Self.dropped(other, ones, rows: N) != out) }
        #expect(LoRADropout(probability: 0, passSeed: 5, layer: 3, role: .gate) == nil)
    }

    /// The mask is the one its definition gives, value by value, so that a run resumed from a
    /// checkpoint (or made by an older build) draws the same masks: row n from a generator seeded
    /// with (seed, n), each draw deciding two features (low half first), dropped when the half is
    /// below p · 2^32. Row lengths around the 16-wide steps and odd lengths (a last half unused).
    @Test(arguments: [1, 15, 16, 17, 33, 100, 640])
    func masksFollowTheirDefinition(_ features: Int) throws {
        let p: Float = 0.3, N = 5
        let d = try #require(LoRADropout(probability: p, passSeed: 21, layer: 2, role: .down))
        let out = Self.dropped(d, [Float](repeating: 1, count: N * features), rows: N)
        let threshold = UInt32(Double(p) * 4_294_967_296)
        for n in 0..<N {
            var generator = SeededGenerator(seed: LoRADropout.mix(d.seed, UInt64(n)))
            var draw: UInt64 = 0
            for j in 0..<features {
                if j % 2 == 0 { draw = generator.next() }
                let half = UInt32(truncatingIfNeeded: j % 2 == 0 ? draw : draw >> 32)
                let expected: Float = half < threshold ? 0 : 1 / (1 - p)
                #expect(out[n * features + j] == expected, "row \(n), feature \(j)")
            }
        }
    }

    /// The backward replays the forward's mask: dx = dout ⊙ m / (1 − p), checked against the mask
    /// read off a forward on ones.
    @Test func backwardReplaysTheMask() throws {
        let N = 7, F = 9
        let d = try #require(LoRADropout(probability: 0.5, passSeed: 11, layer: 0, role: .q))
        let mask = Self.dropped(d, [Float](repeating: 1, count: N * F), rows: N)
        let dout = G.random(N * F, seed: 3), start = G.random(N * F, seed: 4)
        let dx = start.mutated { p in d.backward(dx: p, dout: dout, rows: N, features: F, pool: Self.pool) }
        for i in 0..<(N * F) { #expect(abs(dx[i] - (start[i] + dout[i] * mask[i])) < 1e-6) }
    }

    /// dx, dA and dB of a LoRA linear layer with dropout against finite differences: the mask is a
    /// function of the seed, so the loss is a smooth function of x, A and B.
    @Test func loraLinearGradientsWithDropout() throws {
        let N = 6, inF = 5, outF = 3, r = 2
        let x = G.random(N * inF, seed: 6), w = G.random(N * outF, seed: 7)
        let weight = FrozenLinear(weight: FloatBuffer(G.random(outF * inF, seed: 8)), outFeatures: outF, inFeatures: inF)
        let a0 = G.random(r * inF, seed: 9), b0 = G.random(outF * r, seed: 10)
        let dropout = try #require(LoRADropout(probability: 0.4, passSeed: 99, layer: 1, role: .v))
        func forward(x: [Float], a: [Float], b: [Float], lora: LoRAParameters? = nil) throws -> (loss: Double, u: [Float]) {
            let lora = try lora ?? LoRAParameters(rank: r, inFeatures: inF, outFeatures: outF, scale: 1.5, a: a, b: b)
            var y = [Float](repeating: 0, count: N * outF), u = [Float](repeating: 0, count: N * r)
            y.withUnsafeMutableBufferPointer { yp in
                u.withUnsafeMutableBufferPointer { up in
                    LoRALinear.forward(y: yp.baseAddress!, u: up.baseAddress!, x: x, linear: weight, lora: lora,
                                       dropout: dropout, rows: N, pool: Self.pool)
                }
            }
            return (G.weightedSum(y, w), u)
        }
        let lora = try LoRAParameters(rank: r, inFeatures: inF, outFeatures: outF, scale: 1.5, a: a0, b: b0)
        let u = try forward(x: x, a: a0, b: b0, lora: lora).u
        let dx = [Float](repeating: 0, count: N * inF).mutated { d in
            LoRALinear.backward(dx: d, dy: w, x: x, u: u, linear: weight, lora: lora, dropout: dropout,
                                rows: N, pool: Self.pool)
        }
        try G.check("dropout dx", x: x, analytic: dx) { try forward(x: $0, a: a0, b: b0).loss }
        try G.check("dropout dA", x: a0, analytic: lora.gradA.array) { try forward(x: x, a: $0, b: b0).loss }
        try G.check("dropout dB", x: b0, analytic: lora.gradB.array) { try forward(x: x, a: a0, b: $0).loss }
        // Dropout changes the branch: without it the output differs.
        var plain = [Float](repeating: 0, count: N * outF), plainU = [Float](repeating: 0, count: N * r)
        plain.withUnsafeMutableBufferPointer { yp in
            plainU.withUnsafeMutableBufferPointer { up in
                LoRALinear.forward(y: yp.baseAddress!, u: up.baseAddress!, x: x, linear: weight, lora: lora,
                                   rows: N, pool: Self.pool)
            }
        }
        #expect(plainU != u)
    }

    /// Through the whole model: a seeded pass differs from an unseeded one (evaluation, no
    /// dropout), the same seed gives the same pass, and an unseeded pass with p > 0 equals p = 0.
    @Test func modelPassesDropOnlyWhenSeeded() throws {
        let model = try TinyModelTrainingTests.model("gemma3")
        let base = try TinyModelTrainingTests.adapter(for: model.config, seed: 3)
        let adapter = Self.dropping(base, probability: 0.3)
        let withDropout = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let without = try TrainableGemma(model: model, adapter: base, pool: Self.pool)
        let batch = try TinyModelTrainingTests.batch().tokens
        let evaluation = try withDropout.forward(batch).logProbs
        #expect(evaluation == (try without.forward(batch).logProbs))
        #expect(evaluation == (try without.forward(batch, dropoutSeed: 1).logProbs), "p 0 ignores the seed")
        let seeded = try withDropout.forward(batch, dropoutSeed: 1).logProbs
        #expect(seeded != evaluation)
        #expect(seeded == (try withDropout.forward(batch, dropoutSeed: 1).logProbs))
        #expect(seeded != (try withDropout.forward(batch, dropoutSeed: 2).logProbs))
    }

    /// The ORPO gradient of a seeded pass through every layer against finite differences of the
    /// loss of passes with the same seed (hence the same masks).
    @Test func orpoGradientsWithDropoutMatchFiniteDifferences() throws {
        let model = try TinyModelTrainingTests.model("gemma3")
        let adapter = Self.dropping(try TinyModelTrainingTests.adapter(for: model.config, seed: 7), probability: 0.3)
        let trainable = try TrainableGemma(model: model, adapter: adapter, pool: Self.pool)
        let batch = try TinyModelTrainingTests.batch()
        func loss() throws -> Double {
            try ORPOLoss.evaluate(try trainable.forward(batch.tokens, dropoutSeed: 42), batch: batch, beta: 0.5).loss
        }
        let pass = try trainable.forward(batch.tokens, dropoutSeed: 42)
        let result = try ORPOLoss.evaluate(pass, batch: batch, beta: 0.5)
        adapter.zeroGradients()
        try trainable.backward(pass, dLogProbs: result.dLogProbs)
        for m in adapter.modules where m.layer == 0 || m.layer == model.config.layerCount - 1 {
            let values = m.parameters.a, x = values.array
            let entries = Array(stride(from: 0, to: values.count, by: max(1, values.count / 4)))
            try GradientCheck.check("layer \(m.layer) \(m.role) A", x: x, analytic: m.parameters.gradA.array,
                                    eps: 1e-2, tolerance: 2e-2, entries: entries) { perturbed in
                for j in 0..<perturbed.count { values[j] = perturbed[j] }
                defer { for j in 0..<x.count { values[j] = x[j] } }
                return try loss()
            }
        }
    }
}
