import Adapters
import Foundation
import Gemma
import Records
import TensorKit
import Testing
@testable import Training

@Suite struct ORPOTrainerTests {
    /// A few steps on the tiny Gemma 3 raise the chosen responses over the rejected ones, and each
    /// step's log carries the step, rate, gradient norm and every TRL metric.
    @Test func trainingOnATinyModelSeparatesChosenFromRejected() throws {
        let model = try TinyModelTrainingTests.model("gemma3")
        let adapter = try LoRAAdapter.initialized(
            config: AdapterConfig(r: 4, loraAlpha: 8, targetModules: ["q_proj", "v_proj", "o_proj", "down_proj"]),
            model: model.config, seed: 1)
        var settings = ORPOTrainingSettings()
        settings.learningRate = 1e-2
        settings.batchSize = 1
        settings.gradientAccumulationSteps = 2
        settings.epochs = 6
        settings.warmupRatio = 0.1
        settings.beta = 1
        let trainer = try ORPOTrainer(model: try TrainableGemma(model: model, adapter: adapter,
                                                               pool: TinyModelTrainingTests.pool),
                                      settings: settings)
        let pairs = try TinyModelTrainingTests.batch().pairs
        var logs: [TrainingLog] = []
        try trainer.train(pairs) { logs.append($0) }

        #expect(logs.count == 6)
        #expect(logs.map(\.step) == Array(1...6))
        #expect(logs[0].learningRate == 0)
        #expect(abs(logs[1].learningRate - 1e-2) < 1e-12)
        #expect(abs(logs.last!.epoch - 6) < 1e-9)
        #expect(logs.allSatisfy { $0.gradNorm > 0 && $0.pairs == 2 })
        #expect(logs.last!.metrics.rewardsMargins > logs[0].metrics.rewardsMargins)
        #expect(logs.last!.loss < logs[0].loss)
        let record = logs[0].record
        for key in ["step", "epoch", "loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected",
                    "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "logits/chosen",
                    "logits/rejected", "nll_loss", "log_odds_ratio", "log_odds_chosen"] {
            #expect(record[key] != nil, "\(key)")
        }
    }

    @Test func settingsReadFromJSONWithDefaults() throws {
        let s = try JSONDecoder().decode(ORPOTrainingSettings.self, from: Data(#"{"beta": 0.2, "learning_rate": 5e-5, "optimizer": {"weight_decay": 0.01}}"#.utf8))
        #expect(s.beta == 0.2 && s.learningRate == 5e-5 && s.optimizer.weightDecay == 0.01)
        #expect(s.batchSize == 8 && s.maxGradNorm == 1 && s.optimizer.beta2 == 0.999)
        try s.validate()
    }

    @Test func badSettingsAreNamed() {
        for (json, key) in [(#"{"batch_size": 0}"#, "batch_size"), (#"{"warmup_ratio": 2}"#, "warmup_ratio"),
                            (#"{"beta": -1}"#, "beta"), (#"{"optimizer": {"beta1": 1}}"#, "optimizer")] {
            do {
                try JSONDecoder().decode(ORPOTrainingSettings.self, from: Data(json.utf8)).validate()
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains(key), "\(error)")
            }
        }
    }

    @Test func orpoHelpersAreStable() {
        #expect(abs(ORPOLoss.log1mexp(-1e-10) - log(1e-10)) < 1e-6)
        #expect(abs(ORPOLoss.log1mexp(-50) + exp(-50)) < 1e-30)
        #expect(abs(ORPOLoss.logSigmoid(-800) + 800) < 1e-9)
        #expect(abs(ORPOLoss.logSigmoid(800)) < 1e-300)
        #expect(abs(ORPOLoss.logSigmoid(0) + log(2)) < 1e-15)
    }

    /// A one-token chosen completion whose float32 log-prob is exactly 0 (a judge adapter sure of
    /// its score) gave an infinite z and a NaN gradient, which stopped a run at its step 70.
    @Test func aCompletionMeanOfZeroGivesFiniteSlopes() {
        for (a, b) in [(0.0, -3.0), (-2.0, 0.0), (0.0, 0.0), (-6e-8, -1e-3)] {
            let term = ORPOLoss.oddsTerm(chosen: a, rejected: b)
            #expect(term.z.isFinite && term.ratio.isFinite && term.dChosen.isFinite && term.dRejected.isFinite, "a \(a) b \(b): \(term)")
            #expect(term.dChosen <= 0 && term.dRejected >= 0, "raising a lowers the loss, raising b raises it")
        }
        // the cap changes nothing away from 0: the formula of docs/orpo.md, term by term
        let (a, b) = (-0.3, -1.7)
        let z = (a - b) - (log(1 - exp(a)) - log(1 - exp(b)))
        let term = ORPOLoss.oddsTerm(chosen: a, rejected: b)
        #expect(abs(term.z - z) < 1e-12)
        #expect(abs(term.dChosen + 1 / (1 + exp(z)) / (1 - exp(a))) < 1e-12)
        #expect(abs(term.dRejected - 1 / (1 + exp(z)) / (1 - exp(b))) < 1e-12)
    }
}
