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
        withMask(rows: N, features: features, pool: pool) { i, factor in out[i] = x[i] * factor }
    }

    /// dx[N, in] += dout ⊙ m / (1 − p), with the forward's mask drawn again.
    func backward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, rows N: Int, features: Int,
                  pool: ComputePool) {
        withMask(rows: N, features: features, pool: pool) { i, factor in dx[i] += dout[i] * factor }
    }

    /// Calls `body(i, m[i] / (1 − p))` for every index i of the [N, in] mask, rows in parallel.
    private func withMask(rows N: Int, features: Int, pool: ComputePool, _ body: (Int, Float) -> Void) {
        let p = probability, kept = 1 / (1 - probability)
        pool.parallelFor(N) { rows, _ in
            for n in rows {
                var generator = SeededGenerator(seed: Self.mix(seed, UInt64(n)))
                for j in 0..<features {
                    body(n * features + j, generator.nextUnitFloat() < p ? 0 : kept)
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
