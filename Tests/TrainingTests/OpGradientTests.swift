import Foundation
import Gemma
import TensorKit
import Testing
@testable import Training

/// A finite-difference check of every backward op against its forward, on tiny shapes.
@Suite struct OpGradientTests {
    static let pool = try! ComputePool(threads: 2)
    typealias G = GradientCheck

    @Test func embedding() {
        let V = 5, C = 3, ids = [1, 4, 1, 0]
        let table = G.random(V * C, seed: 1), w = G.random(ids.count * C, seed: 2)
        func loss(_ t: [Float]) -> Double {
            var out = [Float](repeating: 0, count: ids.count * C)
            out.withUnsafeMutableBufferPointer { o in
                Embedding.forward(out: o.baseAddress!, ids: ids, table: t, dim: C, scale: 1.7)
            }
            return G.weightedSum(out, w)
        }
        let dTable = [Float](repeating: 0, count: V * C).mutated { d in
            Embedding.backward(dTable: d, dout: w, ids: ids, dim: C, scale: 1.7)
        }
        G.check("embedding", x: table, analytic: dTable, loss: loss)
    }

    @Test(arguments: [1e-6, 1e-2] as [Float])
    func rmsNorm(eps: Float) {
        let N = 3, C = 6
        let x = G.random(N * C, seed: 3), weight = G.random(C, seed: 4).map { $0 + 1 }, w = G.random(N * C, seed: 5)
        func forward(_ x: [Float]) -> (out: [Float], rstd: [Float]) {
            var out = [Float](repeating: 0, count: N * C), rstd = [Float](repeating: 0, count: N)
            out.withUnsafeMutableBufferPointer { o in
                rstd.withUnsafeMutableBufferPointer { r in
                    RMSNorm.forward(out: o.baseAddress!, rstd: r.baseAddress!, x: x, weight: weight, rows: N, dim: C, eps: eps)
                }
            }
            return (out, rstd)
        }
        let rstd = forward(x).rstd
        let dx = [Float](repeating: 0, count: N * C).mutated { d in
            RMSNorm.backward(dx: d, dout: w, x: x, weight: weight, rstd: rstd, rows: N, dim: C)
        }
        G.check("rmsnorm", x: x, analytic: dx) { G.weightedSum(forward($0).out, w) }
    }

    @Test(arguments: [false, true])
    func loraLinear(withLoRA: Bool) throws {
        let N = 4, inF = 5, outF = 3, r = 2
        let x = G.random(N * inF, seed: 6), w = G.random(N * outF, seed: 7)
        let weight = FrozenLinear(weight: FloatBuffer(G.random(outF * inF, seed: 8)), outFeatures: outF, inFeatures: inF)
        let a0 = G.random(r * inF, seed: 9), b0 = G.random(outF * r, seed: 10)
        func forward(x: [Float], a: [Float], b: [Float]) throws -> Double {
            let lora = withLoRA ? try LoRAParameters(rank: r, inFeatures: inF, outFeatures: outF, scale: 1.5, a: a, b: b) : nil
            var y = [Float](repeating: 0, count: N * outF), u = [Float](repeating: 0, count: N * r)
            y.withUnsafeMutableBufferPointer { yp in
                u.withUnsafeMutableBufferPointer { up in
                    LoRALinear.forward(y: yp.baseAddress!, u: up.baseAddress!, x: x, linear: weight, lora: lora,
                                       rows: N, pool: Self.pool)
                }
            }
            return G.weightedSum(y, w)
        }
        let lora = try LoRAParameters(rank: r, inFeatures: inF, outFeatures: outF, scale: 1.5, a: a0, b: b0)
        var u = [Float](repeating: 0, count: N * r), y = [Float](repeating: 0, count: N * outF)
        y.withUnsafeMutableBufferPointer { yp in
            u.withUnsafeMutableBufferPointer { up in
                LoRALinear.forward(y: yp.baseAddress!, u: up.baseAddress!, x: x, linear: weight,
                                   lora: withLoRA ? lora : nil, rows: N, pool: Self.pool)
            }
        }
        let dx = [Float](repeating: 0, count: N * inF).mutated { d in
            LoRALinear.backward(dx: d, dy: w, x: x, u: u, linear: weight, lora: withLoRA ? lora : nil,
                                rows: N, pool: Self.pool)
        }
        try G.check("linear dx", x: x, analytic: dx) { try forward(x: $0, a: a0, b: b0) }
        guard withLoRA else { return }
        try G.check("lora dA", x: a0, analytic: lora.gradA.array) { try forward(x: x, a: $0, b: b0) }
        try G.check("lora dB", x: b0, analytic: lora.gradB.array) { try forward(x: x, a: a0, b: $0) }
    }

    @Test func rope() {
        let B = 2, T = 3, H = 2, d = 4, stride = H * d
        let table = RoPETable(base: 10000, headDim: d, positions: T)
        let x = G.random(B * T * stride, seed: 11), w = G.random(B * T * stride, seed: 12)
        func forward(_ x: [Float]) -> [Float] {
            x.mutated { RoPE.forward($0, batch: B, positions: T, heads: H, rowStride: stride, table: table) }
        }
        let dx = w.mutated { RoPE.backward($0, batch: B, positions: T, heads: H, rowStride: stride, table: table) }
        G.check("rope", x: x, analytic: dx) { G.weightedSum(forward($0), w) }
    }

    /// GQA (4 query heads over 2 KV heads), padding (lengths 5 and 3 of T = 5), with and without a
    /// sliding window of 2 and a softcap.
    @Test(arguments: [(nil, nil), (2, nil), (nil, 1.5), (2, 1.5)] as [(Int?, Float?)])
    func attention(window: Int?, softcap: Float?) {
        let B = 2, T = 5, H = 4, Hkv = 2, d = 3
        let shape = AttentionShape(batch: B, positions: T, heads: H, kvHeads: Hkv, headDim: d, scale: 0.7,
                                   softcap: softcap, window: window, lengths: [5, 3])
        let q = G.random(B * T * H * d, seed: 13), k = G.random(B * T * Hkv * d, seed: 14)
        let v = G.random(B * T * Hkv * d, seed: 15), w = G.random(B * T * H * d, seed: 16)
        let P = B * H * T * T
        func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> (out: [Float], probs: [Float], capped: [Float]) {
            var out = [Float](repeating: 0, count: B * T * H * d)
            var probs = [Float](repeating: 0, count: P), capped = [Float](repeating: 0, count: P)
            out.withUnsafeMutableBufferPointer { o in
                probs.withUnsafeMutableBufferPointer { p in
                    capped.withUnsafeMutableBufferPointer { c in
                        Attention.forward(out: o.baseAddress!, probs: p.baseAddress!,
                                          capped: softcap == nil ? nil : c.baseAddress!,
                                          q: q, k: k, v: v, shape: shape, pool: Self.pool)
                    }
                }
            }
            return (out, probs, capped)
        }
        let saved = forward(q, k, v)
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count)
        var dv = [Float](repeating: 0, count: v.count)
        dq.withUnsafeMutableBufferPointer { dqp in
            dk.withUnsafeMutableBufferPointer { dkp in
                dv.withUnsafeMutableBufferPointer { dvp in
                    Attention.backward(dq: dqp.baseAddress!, dk: dkp.baseAddress!, dv: dvp.baseAddress!, dout: w,
                                       probs: saved.probs, capped: softcap == nil ? nil : saved.capped,
                                       q: q, k: k, v: v, shape: shape, pool: Self.pool)
                }
            }
        }
        G.check("attention dq", x: q, analytic: dq) { G.weightedSum(forward($0, k, v).out, w) }
        G.check("attention dk", x: k, analytic: dk) { G.weightedSum(forward(q, $0, v).out, w) }
        G.check("attention dv", x: v, analytic: dv) { G.weightedSum(forward(q, k, $0).out, w) }
        // Padding keys get no gradient: sequence 1's positions 3 and 4.
        for t in 3..<5 { for j in 0..<(Hkv * d) { #expect(dk[(T + t) * Hkv * d + j] == 0) } }
    }

    /// n = 20: two blocks of 8 lanes (Ops.tanh8) and a scalar tail of 4.
    @Test func gatedGELU() {
        let n = 20
        let gate = G.random(n, seed: 17, scale: 3), up = G.random(n, seed: 18), w = G.random(n, seed: 19)
        func forward(_ g: [Float], _ u: [Float]) -> [Float] {
            [Float](repeating: 0, count: n).mutated { GatedGELU.forward(h: $0, gate: g, up: u, count: n) }
        }
        var dgate = [Float](repeating: 0, count: n), dup = [Float](repeating: 0, count: n)
        dgate.withUnsafeMutableBufferPointer { dg in
            dup.withUnsafeMutableBufferPointer { du in
                GatedGELU.backward(dgate: dg.baseAddress!, dup: du.baseAddress!, dh: w, gate: gate, up: up, count: n)
            }
        }
        G.check("gelu dgate", x: gate, analytic: dgate) { G.weightedSum(forward($0, up), w) }
        G.check("gelu dup", x: up, analytic: dup) { G.weightedSum(forward(gate, $0), w) }
    }

    /// The 8-lane GELU (and its tanh and exp) against the scalar one over the range activations
    /// take and beyond: within 2e-7·max(1, |x|); the backward's value likewise, its slope within 4e-6.
    @Test func vectorGELUMatchesTheScalarOne() {
        let xs = stride(from: -30.0 as Float, through: 30, by: 0.0137).map { $0 } + [0, -0.0, 1e-6, -1e-6, 88, -90, 200]
        let n = xs.count
        let ones = [Float](repeating: 1, count: n)
        let h = [Float](repeating: 0, count: n).mutated { GatedGELU.forward(h: $0, gate: xs, up: ones, count: n, pool: Self.pool) }
        var dgate = [Float](repeating: 0, count: n), dup = [Float](repeating: 0, count: n)
        dgate.withUnsafeMutableBufferPointer { dg in
            dup.withUnsafeMutableBufferPointer { du in
                GatedGELU.backward(dgate: dg.baseAddress!, dup: du.baseAddress!, dh: ones, gate: xs, up: ones, count: n, pool: Self.pool)
            }
        }
        var worst: Float = 0, worstSlope: Float = 0
        for (i, x) in xs.enumerated() {
            worst = max(worst, abs(h[i] - GatedGELU.gelu(x)) / max(1, abs(x)), abs(dup[i] - GatedGELU.gelu(x)) / max(1, abs(x)))
            worstSlope = max(worstSlope, abs(dgate[i] - GatedGELU.geluDerivative(x)))
        }
        #expect(worst < 2e-7, "largest relative difference \(worst)")
        // The slope multiplies tanh's error by up to x·c(1 + 3k x²)/2 before 1 − t² vanishes.
        #expect(worstSlope < 4e-6, "largest slope difference \(worstSlope)")
        let e = Ops.exp8(SIMD8<Float>(-87, -20, -1, -1e-3, 0, 0.5, 10, 88))
        for (i, x) in [-87, -20, -1, -1e-3, 0, 0.5, 10, 88].enumerated() as EnumeratedSequence<[Float]> {
            #expect(abs(e[i] - expf(x)) <= 2e-7 * expf(x), "exp(\(x)): \(e[i]) against \(expf(x))")
        }
    }

    @Test func softcap() {
        let x = G.random(10, seed: 20, scale: 4), w = G.random(10, seed: 21)
        func forward(_ x: [Float]) -> [Float] { x.mutated { Softcap.forward($0, count: 10, cap: 2) } }
        let y = forward(x)
        let dx = w.mutated { Softcap.backward($0, y: y, count: 10, cap: 2) }
        G.check("softcap", x: x, analytic: dx) { G.weightedSum(forward($0), w) }
    }

    @Test func residual() {
        let x = G.random(6, seed: 22), branch = G.random(6, seed: 23), w = G.random(6, seed: 24)
        let dbranch = [Float](repeating: 0, count: 6).mutated { Residual.backward(dbranch: $0, dout: w, count: 6) }
        G.check("residual", x: branch, analytic: dbranch) { b in
            G.weightedSum(x.mutated { Residual.forward($0, adding: b, count: 6) }, w)
        }
    }

    @Test func tokenLogProbs() {
        let N = 3, V = 7, targets = [2, -1, 6]
        let logits = G.random(N * V, seed: 25, scale: 3), w: [Float] = [0.7, 0.4, -1.3]
        func forward(_ l: [Float]) -> (logp: [Float], lse: [Float]) {
            var logp = [Float](repeating: 0, count: N), lse = [Float](repeating: 0, count: N)
            logp.withUnsafeMutableBufferPointer { lp in
                lse.withUnsafeMutableBufferPointer { ls in
                    TokenLogProbs.forward(logp: lp.baseAddress!, lse: ls.baseAddress!, logits: l, targets: targets,
                                          vocabulary: V, pool: Self.pool)
                }
            }
            return (logp, lse)
        }
        let saved = forward(logits)
        #expect(saved.logp[1] == 0)
        let dlogits = [Float](repeating: 0, count: N * V).mutated { d in
            TokenLogProbs.backward(dlogits: d, dlogp: w, logits: logits, lse: saved.lse, targets: targets,
                                   vocabulary: V, pool: Self.pool)
        }
        G.check("log-softmax", x: logits, analytic: dlogits) { G.weightedSum(forward($0).logp, w) }
    }

    /// The fused forward's in-place rows are d logp/d logits (through the final soft-cap when there
    /// is one): finite differences of Σ w·logp against Σ_n w[n]·row[n], and the same log-probs and
    /// rows as the plain forward and backward with dlogp = w.
    @Test(arguments: [nil, Float(2)]) func tokenLogProbsWithGradient(_ cap: Float?) {
        let N = 3, V = 7, targets = [2, -1, 6]
        let raw = G.random(N * V, seed: 26, scale: 3), w: [Float] = [0.7, 0.4, -1.3]
        func capped(_ l: [Float]) -> [Float] { cap.map { c in l.mutated { Softcap.forward($0, count: N * V, cap: c) } } ?? l }
        func plain(_ l: [Float]) -> (logp: [Float], lse: [Float]) {
            var logp = [Float](repeating: 0, count: N), lse = [Float](repeating: 0, count: N)
            TokenLogProbs.forward(logp: &logp, lse: &lse, logits: capped(l), targets: targets, vocabulary: V, pool: Self.pool)
            return (logp, lse)
        }
        var logp = [Float](repeating: 0, count: N), lse = [Float](repeating: 0, count: N)
        let rows = capped(raw).mutated { l in
            TokenLogProbs.forwardWithGradient(logp: &logp, lse: &lse, logits: l, targets: targets, vocabulary: V,
                                              softcap: cap, pool: Self.pool)
        }
        let reference = plain(raw)
        #expect(logp == reference.logp && lse == reference.lse)
        #expect(rows[V..<(2 * V)].allSatisfy { $0 == 0 }, "a row without a target has no gradient")
        let analytic = (0..<(N * V)).map { w[$0 / V] * rows[$0] }
        G.check("fused log-softmax, cap \(cap.map { "\($0)" } ?? "none")", x: raw, analytic: analytic) {
            G.weightedSum(plain($0).logp, w)
        }
        var dlogits = [Float](repeating: 0, count: N * V).mutated { d in
            TokenLogProbs.backward(dlogits: d, dlogp: w, logits: capped(raw), lse: reference.lse, targets: targets,
                                   vocabulary: V, pool: Self.pool)
        }
        if let cap { dlogits = dlogits.mutated { Softcap.backward($0, y: capped(raw), count: N * V, cap: cap) } }
        let worst = zip(dlogits, analytic).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-6, "fused against plain: max difference \(worst)")
    }
}
