import Foundation
import Gemma
import TensorKit

// Log-softmax over the vocabulary, read at the label: logp[n] = logits[n, y_n] − logsumexp(logits[n]),
// the per-token quantity TRL's get_batch_logps and cross-entropy are built from (docs/orpo.md,
// "Log-probabilities").

/// Shapes: N rows of V logits; targets[n] is the label of row n or −1 for none.
enum TokenLogProbs {
    /// logp[n] (0 where there is no target) and lse[n] = logsumexp of row n (saved for the
    /// backward), summed in Double so that 262144-term rows lose no precision.
    static func forward(logp: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                        logits: UnsafePointer<Float>, targets: [Int], vocabulary V: Int, pool: ComputePool) {
        targets.withUnsafeBufferPointer { tp in
            pool.parallelFor(tp.count, chunk: 1) { range, _ in
                for n in range {
                    let row = logits + n * V
                    let m = Ops.maximum(row, count: V)
                    let l = m + Float(log(Ops.expSum(row, count: V, minus: m, storingInto: nil)))
                    lse[n] = l
                    logp[n] = tp[n] >= 0 ? row[tp[n]] - l : 0
                }
            }
        }
    }

    /// dlogits[n, :] += dlogp[n] · (onehot(y_n) − softmax(logits[n])); rows whose dlogp is 0 (or
    /// that have no target) are left alone.
    static func backward(dlogits: UnsafeMutablePointer<Float>, dlogp: UnsafePointer<Float>,
                         logits: UnsafePointer<Float>, lse: UnsafePointer<Float>, targets: [Int],
                         vocabulary V: Int, pool: ComputePool) {
        targets.withUnsafeBufferPointer { tp in
            pool.parallelFor(tp.count, chunk: 1) { range, _ in
                for n in range where tp[n] >= 0 && dlogp[n] != 0 {
                    let row = logits + n * V, d = dlogits + n * V
                    let g = dlogp[n], l = lse[n]
                    for j in 0..<V { d[j] -= g * expf(row[j] - l) }
                    d[tp[n]] += g
                }
            }
        }
    }

    /// The forward (`logp`, `lse` as above) and, in place of the logits, each row's gradient
    /// d logp[n] / d logits[n, :] = onehot(y_n) − softmax(logits[n]), taken back through the final
    /// soft-cap when `cap` is given (the logits then being the capped values): what `backward` adds
    /// with dlogp 1 and, with `Softcap.backward`, the plain path's dlogits. Rows without a target
    /// become 0. The head's backward is then a product with these rows, scaled by the loss's
    /// dlogp afterwards, and the logits are never computed a second time (the fused linear
    /// cross-entropy; docs/orpo.md, "Gradients"). Without a cap, one exp per logit serves both.
    static func forwardWithGradient(logp: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                                    logits: UnsafeMutablePointer<Float>, targets: [Int], vocabulary V: Int,
                                    softcap cap: Float?, pool: ComputePool) {
        targets.withUnsafeBufferPointer { tp in
            pool.parallelFor(tp.count, chunk: 1) { range, _ in
                for n in range {
                    let row = logits + n * V, y = tp[n]
                    let m = Ops.maximum(row, count: V)
                    let target = y >= 0 ? row[y] : 0
                    let sum = Ops.expSum(row, count: V, minus: m, storingInto: cap == nil ? row : nil)
                    let l = m + Float(log(sum))
                    lse[n] = l
                    logp[n] = y >= 0 ? target - l : 0
                    guard y >= 0 else {
                        row.update(repeating: 0, count: V)
                        continue
                    }
                    if let cap {
                        let inv = 1 / cap
                        for j in 0..<V {
                            let t = row[j] * inv
                            row[j] = -expf(row[j] - l) * (1 - t * t)
                        }
                        let t = target * inv
                        row[y] += 1 - t * t
                    } else {
                        Ops.scale(row, count: V, by: Float(-1 / sum))
                        row[y] += 1
                    }
                }
            }
        }
    }
}
