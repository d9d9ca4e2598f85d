import Foundation
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
                    var m = -Float.infinity
                    for j in 0..<V where row[j] > m { m = row[j] }
                    var sum = 0.0
                    for j in 0..<V { sum += Double(expf(row[j] - m)) }
                    let l = m + Float(log(sum))
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
}
