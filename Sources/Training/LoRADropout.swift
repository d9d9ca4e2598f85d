import Adapters
import Gemma
import TensorKit

// PEFT's lora_dropout (peft.tuners.lora.layer.Linear.forward): the LoRA branch reads a dropped-out
// copy of the input, lora_B(lora_A(dropout(x))) · scaling, while the frozen path W x reads x
// itself. Inverted dropout as torch.nn.Dropout: kept values are scaled by 1 / (1 − p), so the
// branch's expectation is unchanged and evaluation simply skips it.
//
// The mask is never stored: row n of a layer's mask is drawn from a SeededGenerator seeded with
// (pass seed, layer, role, n), so the backward draws the same mask again, rows can be drawn in
// parallel, and a run (or a resumed run) draws the same masks for the same seed.

/// One adapted linear layer's dropout in one forward pass. Shapes: N rows × `in` features.
struct LoRADropout: Sendable {
    /// The probability p of zeroing a value, in (0, 1).
    let probability: Float
    /// Seeds the mask of this layer in this pass.
    let seed: UInt64

    /// The dropout of `role` in layer `layer` for a pass seeded with `passSeed`, or nil when p is 0.
    init?(probability: Float, passSeed: UInt64, layer: Int, role: LayerTensor) {
        guard probability > 0 else { return nil }
        self.probability = probability
        let roleIndex = LayerTensor.linearRoles.firstIndex(of: role) ?? 0
        seed = Self.mix(Self.mix(passSeed, UInt64(layer)), UInt64(roleIndex))
    }

    /// out[N, in] = x ⊙ m / (1 − p), m[n, j] = 1 with probability 1 − p.
    func forward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows N: Int, features: Int,
                 pool: ComputePool) {
        withRowFactors(rows: N, features: features, pool: pool) { base, f in
            let o = out + base, v = x + base
            var j = 0
            while j + 16 <= features {
                store(o + j, load(v + j) * load(f + j))
                j += 16
            }
            while j < features {
                o[j] = v[j] * f[j]
                j += 1
            }
        }
    }

    /// dx[N, in] += dout ⊙ m / (1 − p), with the forward's mask drawn again.
    func backward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, rows N: Int, features: Int,
                  pool: ComputePool) {
        withRowFactors(rows: N, features: features, pool: pool) { base, f in
            let o = dx + base, v = dout + base
            var j = 0
            while j + 16 <= features {
                store(o + j, load(UnsafePointer(o + j)) + load(v + j) * load(f + j))
                j += 16
            }
            while j < features {
                o[j] += v[j] * f[j]
                j += 1
            }
        }
    }

    @inline(__always)
    private func load<T: SIMDScalar>(_ p: UnsafePointer<T>) -> SIMD16<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<T>.self)
    }

    @inline(__always)
    private func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Calls `body(n · in, f)` for every row n, rows in parallel, with f[j] = m[n, j] / (1 − p)
    /// (0 or the kept scale) for the row's `in` features.
    ///
    /// Row n's mask comes from a generator seeded with (seed, n): each draw decides two features,
    /// one per 32-bit half, low half first; a feature is dropped when its half is below p · 2^32.
    /// In memory the draws' halves lie in feature order (little-endian), so the row's draws are
    /// read as one array of 32-bit values and compared 16 at a time.
    @inline(__always)
    private func withRowFactors(rows N: Int, features: Int, pool: ComputePool,
                                _ body: (Int, UnsafePointer<Float>) -> Void) {
        let kept = 1 / (1 - probability)
        let threshold = UInt32(min(Double(probability) * 4_294_967_296, 4_294_967_295))
        let drawCount = (features + 1) / 2
        pool.parallelFor(N) { rows, _ in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: drawCount + 8) { draws in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: features) { factors in
                    let halves = UnsafeRawPointer(draws.baseAddress!).assumingMemoryBound(to: UInt32.self)
                    let f = factors.baseAddress!
                    let limit = SIMD16<UInt32>(repeating: threshold), keep = SIMD16<Float>(repeating: kept)
                    for n in rows {
                        var generator = SeededGenerator(seed: Self.mix(seed, UInt64(n)))
                        generator.fill(UnsafeMutableBufferPointer(rebasing: draws[0..<drawCount]))
                        var j = 0
                        while j + 16 <= features {
                            store(f + j, keep.replacing(with: 0, where: load(halves + j) .< limit))
                            j += 16
                        }
                        while j < features {
                            f[j] = halves[j] < threshold ? 0 : kept
                            j += 1
                        }
                        body(n * features, f)
                    }
                }
            }
        }
    }

    /// A 64-bit mix of two words (splitmix64's finaliser over a + golden-ratio multiple of b):
    /// distinct (seed, index) pairs give unrelated generator seeds.
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var x = a &+ (b &+ 1) &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }
}
