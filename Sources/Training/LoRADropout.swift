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
    @inline(__always)
    private func withMask(rows N: Int, features: Int, pool: ComputePool, _ body: (Int, Float) -> Void) {
        let kept = 1 / (1 - probability)
        pool.parallelFor(N) { rows, _ in
            for n in rows {
                dropBlocks(row: n, features: features) { start, count, dropped in
                    let base = n * features + start
                    for j in 0..<count { body(base + j, (dropped >> UInt64(j)) & 1 == 1 ? 0 : kept) }
                }
            }
        }
    }

    /// Row n's mask, 64 features at a time: `body(start, count, dropped)` with bit j of `dropped`
    /// set when feature start + j is dropped. Each draw of the row's generator decides two
    /// features, one per 32-bit half: dropped when the half is below p · 2^32.
    @inline(__always)
    private func dropBlocks(row n: Int, features: Int, _ body: (Int, Int, UInt64) -> Void) {
        let threshold = UInt32(min(Double(probability) * 4_294_967_296, 4_294_967_295))
        var generator = SeededGenerator(seed: Self.mix(seed, UInt64(n)))
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 32) { draws in
            var start = 0
            while start < features {
                let count = min(64, features - start)
                generator.fill(UnsafeMutableBufferPointer(rebasing: draws[0..<((count + 1) / 2)]))
                var dropped: UInt64 = 0
                for j in 0..<count {
                    let r = draws[j / 2]
                    let half = UInt32(truncatingIfNeeded: j & 1 == 0 ? r : r >> 32)
                    if half < threshold { dropped |= 1 << UInt64(j) }
                }
                body(start, count, dropped)
                start += 64
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
