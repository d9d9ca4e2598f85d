import Foundation

// ORPO (Hong et al. 2024, arXiv 2403.07691) as TRL's trl.experimental.orpo computes it
// (docs/orpo.md, "Loss"):
// a, b = completion-mean log-probs of chosen and rejected; z = (a − b) − (log1mexp(a) − log1mexp(b));
// loss = NLL(chosen, prompt included) − beta · mean(logsigmoid(z)).
// NLLScope.completion is this project's option, not TRL's: the NLL over the chosen completion only.

/// Which targets of the chosen sequences the NLL term covers.
public enum NLLScope: String, Codable, Sendable, CaseIterable {
    /// Every target, prompt included: TRL's ORPO.
    case sequence
    /// The completion's targets only (for pairs whose prompt is long and shared, such as a judge's
    /// prompt with a one-token score as the completion: then the NLL is the score's cross-entropy).
    case completion
}

/// The metrics TRL logs for a batch, under TRL's names.
public struct ORPOMetrics: Sendable, Equatable {
    public var rewardsChosen: Double
    public var rewardsRejected: Double
    public var rewardsAccuracies: Double
    public var rewardsMargins: Double
    public var logpsChosen: Double
    public var logpsRejected: Double
    public var logitsChosen: Double
    public var logitsRejected: Double
    public var nllLoss: Double
    public var logOddsRatio: Double
    public var logOddsChosen: Double

    static let fields: [WritableKeyPath<ORPOMetrics, Double>] = [
        \.rewardsChosen, \.rewardsRejected, \.rewardsAccuracies, \.rewardsMargins, \.logpsChosen, \.logpsRejected,
        \.logitsChosen, \.logitsRejected, \.nllLoss, \.logOddsRatio, \.logOddsChosen,
    ]

    /// The field-wise mean (the metrics of an optimizer step over several micro-batches).
    public static func mean(_ all: [ORPOMetrics]) -> ORPOMetrics? {
        guard var m = all.first else { return nil }
        for f in fields { m[keyPath: f] = all.reduce(0.0) { $0 + $1[keyPath: f] } / Double(all.count) }
        return m
    }

    /// (TRL's key, value) pairs, in TRL's order.
    public var named: [(String, Double)] {
        [("rewards/chosen", rewardsChosen), ("rewards/rejected", rewardsRejected),
         ("rewards/accuracies", rewardsAccuracies), ("rewards/margins", rewardsMargins),
         ("logps/rejected", logpsRejected), ("logps/chosen", logpsChosen),
         ("logits/rejected", logitsRejected), ("logits/chosen", logitsChosen),
         ("nll_loss", nllLoss), ("log_odds_ratio", logOddsRatio), ("log_odds_chosen", logOddsChosen)]
    }
}

/// The loss of one batch, its metrics, and dLoss/dlogp for every row of the model's batch.
public struct ORPOResult: Sendable {
    public var loss: Double
    public var metrics: ORPOMetrics
    /// [2B·T], to pass to TrainableGemma.backward.
    public var dLogProbs: [Float]
}

public enum ORPOLoss {
    /// log(1 − eˣ) for x < 0, stable on both sides of −ln 2.
    public static func log1mexp(_ x: Double) -> Double {
        x < -M_LN2 ? log1p(-exp(x)) : log(-expm1(x))
    }

    /// log σ(z), stable for large |z|.
    public static func logSigmoid(_ z: Double) -> Double {
        z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z))
    }

    /// A completion mean above this is taken as this: log(1 − eˣ) and its slope are infinite at 0.
    public static let largestMeanLogProb = -1e-10

    /// One pair's odds term from the completion means a (chosen) and b (rejected): z, logsigmoid(z),
    /// and the slopes of −logsigmoid(z) with respect to a and b (before β/B). A mean of exactly 0 (a
    /// one-token completion whose float32 probability rounded to 1) makes z infinite and TRL's
    /// gradient 0·∞ = NaN; both means are capped at `largestMeanLogProb` first, which changes
    /// nothing else (the smallest nonzero float32 log-prob is about −6e-8). For the chosen mean
    /// this gives the finite limit of the slope; a rejected mean of 0 has an unbounded slope, and
    /// the capped one is large (about σ(−z)·1e10) but finite, which gradient clipping then bounds
    /// (docs/orpo.md, "Gradients").
    public static func oddsTerm(chosen: Double, rejected: Double) -> (z: Double, ratio: Double, dChosen: Double, dRejected: Double) {
        let a = min(chosen, largestMeanLogProb), b = min(rejected, largestMeanLogProb)
        let z = (a - b) - (log1mexp(a) - log1mexp(b))
        let sigmoidNegZ = exp(logSigmoid(-z))
        return (z, logSigmoid(z), -sigmoidNegZ / -expm1(a), sigmoidNegZ / -expm1(b))
    }

    /// Evaluates ORPO on a forward pass over `batch.tokens` (any `PairLayout`).
    ///
    /// - nll: token-mean cross-entropy over every target of the chosen sequences (all non-pad
    ///   positions but the first, prompt included), pooled over the batch as torch's
    ///   CrossEntropyLoss pools it; with `nll: .completion`, over their completion targets only.
    /// - logits/chosen, logits/rejected: the mean of all logits of rows 0 ..< T−1 of each half of
    ///   the padded batch, padding rows included (TRL's `all_logits[:B, :-1, :].mean()`); in the
    ///   shared and prefix layouts, of the rows that predict a token of each half (`metricRows`).
    public static func evaluate(_ pass: ForwardPass, batch: PreferenceBatch, beta: Double,
                                nll scope: NLLScope = .sequence) throws -> ORPOResult {
        let tokens = batch.tokens
        let B = batch.pairCount, T = tokens.positions
        guard pass.batch == tokens else {
            throw TrainingError.invalidArgument("the forward pass was not run on this preference batch")
        }
        let logp = pass.logProbs
        var dlogp = [Float](repeating: 0, count: tokens.batchSize * T)

        // Completion means a (chosen, sequences 0..<B) and b (rejected, B..<2B).
        var means = [Double](repeating: 0, count: 2 * B)
        for s in 0..<(2 * B) {
            let rows = batch.completionRows(sequence: s)
            guard !rows.isEmpty else {
                throw TrainingError.invalidArgument("sequence \(s) of the batch has no completion tokens")
            }
            means[s] = rows.reduce(0.0) { $0 + Double(logp[$1]) } / Double(rows.count)
        }

        // NLL over the chosen sequences.
        let nllRows = batch.nllRows(scope)
        guard !nllRows.isEmpty else { throw TrainingError.invalidArgument("the chosen sequences have no targets") }
        let nll = -nllRows.reduce(0.0) { $0 + Double(logp[$1]) } / Double(nllRows.count)
        for n in nllRows { dlogp[n] -= Float(1 / Double(nllRows.count)) }

        // Odds ratio, its loss term and gradient: dL/da = −(β/B)σ(−z)/(1 − eᵃ), dL/db = +(β/B)σ(−z)/(1 − eᵇ).
        var ratioSum = 0.0, zSum = 0.0, accuracy = 0.0
        for i in 0..<B {
            let a = means[i], b = means[B + i]
            let term = oddsTerm(chosen: a, rejected: b)
            ratioSum += term.ratio
            zSum += term.z
            if beta * a > beta * b { accuracy += 1 }
            let da = (beta / Double(B)) * term.dChosen, db = (beta / Double(B)) * term.dRejected
            for (s, g) in [(i, da), (B + i, db)] {
                let rows = batch.completionRows(sequence: s)
                for n in rows { dlogp[n] += Float(g / Double(rows.count)) }
            }
        }
        let meanRatio = ratioSum / Double(B)
        let loss = nll - beta * meanRatio

        func logitMean(chosen: Bool) -> Double {
            let rows = batch.metricRows(chosen: chosen)
            let sum = rows.reduce(0.0) { $0 + pass.logitSum(row: $1) }
            return sum / Double(max(1, rows.count) * pass.vocabulary)
        }
        let a = means[0..<B], b = means[B..<(2 * B)]
        let meanA = a.reduce(0, +) / Double(B), meanB = b.reduce(0, +) / Double(B)
        let metrics = ORPOMetrics(
            rewardsChosen: beta * meanA, rewardsRejected: beta * meanB, rewardsAccuracies: accuracy / Double(B),
            rewardsMargins: beta * (meanA - meanB), logpsChosen: meanA, logpsRejected: meanB,
            logitsChosen: logitMean(chosen: true), logitsRejected: logitMean(chosen: false), nllLoss: nll,
            logOddsRatio: meanRatio, logOddsChosen: zSum / Double(B))
        return ORPOResult(loss: loss, metrics: metrics, dLogProbs: dlogp)
    }
}
