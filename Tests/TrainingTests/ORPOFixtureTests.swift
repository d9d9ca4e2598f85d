import Adapters
import Foundation
import Gemma
import ModelFormats
import TensorKit
import Testing
@testable import Training
import TestSupport
import TrainingCLI

/// The proof of the training path: batches through TRL + PEFT on the default model must come out
/// the same here: tokens, loss, every metric TRL logs, and the gradient of every LoRA factor.
/// Fixtures/orpo: four text pairs, beta 0.2, LoRA r 4 on every linear layer. Fixtures/orpo-chat
/// (made by scripts/ref-orpo.py): four pairs in TRL's conversational form, beta 0.5, max_length 64
/// so that one pair is truncated, LoRA r 4 alpha 16 on q, v and down only.
@Suite(.serialized, .enabled(if: RealModel.isAvailable))
struct ORPOFixtureTests {
    static let fixtures = ["orpo", "orpo-chat"]

    /// One forward and backward over a fixture batch, shared by the tests below.
    final class Run: @unchecked Sendable {
        let loaded: LoadedModel
        let expected: ORPOFixture.Expected
        let batch: PreferenceBatch
        let adapter: LoRAAdapter
        let pass: ForwardPass
        let result: ORPOResult

        let directory: String

        init(_ name: String) throws {
            let pool = try ComputePool(threads: 2)
            directory = ORPOFixture.directory(name)
            loaded = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
            expected = try ORPOFixture.expected(name)
            batch = try PreferenceBatch(pairs: expected.tokenized, padID: loaded.model.config.padID ?? 0)
            adapter = try LoRAAdapter(PEFTAdapter.read(path: directory + "/adapter", model: loaded.model.config))
            let trainable = try TrainableGemma(model: loaded.model, adapter: adapter, pool: pool)
            // A training pass, as TRL's was, at the fixture adapter's lora_dropout of 0 (TRL ran
            // with dropout 0 so that its gradients are deterministic).
            guard adapter.config.loraDropout == 0 else {
                throw TrainingError.invalidArgument("the ORPO fixture adapter must have lora_dropout 0")
            }
            pass = try trainable.forward(batch.tokens, keepLogits: true, dropoutSeed: 0)
            result = try ORPOLoss.evaluate(pass, batch: batch, beta: expected.beta)
            try trainable.backward(pass, dLogProbs: result.dLogProbs)
        }

        nonisolated(unsafe) private static var shared: [String: Run] = [:]
        private static let lock = NSLock()

        /// The run of one fixture; the previous fixture's run is let go (each holds the model).
        static func get(_ name: String) throws -> Run {
            lock.lock()
            defer { lock.unlock() }
            if let run = shared[name] { return run }
            shared.removeAll()
            let run = try Run(name)
            shared[name] = run
            return run
        }
    }

    /// orpo-train's reading of pairs.jsonl (text or conversational form) with its default
    /// max_prompt_length for the fixture's max_length gives exactly TRL's ids and labels.
    @Test(arguments: fixtures) func tokenisationMatchesTRL(_ name: String) throws {
        let run = try Run.get(name)
        let c = run.loaded.model.config
        let tokenizer = PreferenceTokenizer(tokenizer: run.loaded.tokenizer, bosID: c.bosID, eosID: c.eosIDs[0],
                                            maxLength: Int.max / 4)
        let maxLength = run.expected.max_length
        let reader = TrainingPairReader(
            tokenizer: tokenizer, truncation: PairTruncation(maxLength: maxLength, maxPromptLength: min(512, maxLength / 2)),
            vocabularySize: c.vocabularySize, contextLength: c.contextLength)
        let read = try reader.read(paths: [run.directory + "/pairs.jsonl"])
        #expect(read.problems.isEmpty, "\(read.problems)")
        #expect(read.pairs.count == run.batch.pairs.count)
        for (i, (mine, reference)) in zip(read.pairs, run.batch.pairs).enumerated() {
            #expect(mine == reference, "pair \(i + 1) of \(name)")
        }
    }

    @Test(arguments: fixtures) func lossAndMetricsMatchTRL(_ name: String) throws {
        let run = try Run.get(name)
        func check(_ metric: String, _ mine: Double, _ reference: Double) {
            let rel = abs(mine - reference) / max(abs(reference), 1e-6)
            FileHandle.standardError.write(Data("orpo fixture \(name): \(metric) \(mine) vs \(reference) (relative \(rel))\n".utf8))
            #expect(rel < 1e-3, "\(name): \(metric): \(mine) vs TRL's \(reference)")
        }
        check("loss", run.result.loss, run.expected.loss)
        for (metric, value) in run.result.metrics.named {
            guard let reference = run.expected.metrics[metric] else {
                Issue.record("metric \(metric) missing from the fixture \(name)")
                continue
            }
            check(metric, value, reference)
        }
    }

    @Test(arguments: fixtures) func gradientsMatchPyTorch(_ name: String) throws {
        let run = try Run.get(name)
        let grads = try SafetensorsFile(path: run.directory + "/grads.safetensors")
        var checked = 0, worst = 0.0
        for m in run.adapter.modules {
            for (factor, mine) in [("A", m.parameters.gradA), ("B", m.parameters.gradB)] {
                let name = PEFTAdapter.tensorName(layer: m.layer, role: m.role, factor: factor)
                let info = try grads.tensorInfo(name)
                #expect(info.dtype == .f32 && info.elementCount == mine.count, "\(name)")
                let ref = try grads.tensorData(name).assumingMemoryBound(to: Float.self)
                var diff = 0.0, refNorm = 0.0, dot = 0.0, mineNorm = 0.0
                for i in 0..<mine.count {
                    let a = Double(mine[i]), b = Double(ref[i])
                    diff += (a - b) * (a - b)
                    refNorm += b * b
                    mineNorm += a * a
                    dot += a * b
                }
                let rel = (diff / refNorm).squareRoot()
                let cosine = dot / (refNorm * mineNorm).squareRoot()
                worst = max(worst, rel)
                if ProcessInfo.processInfo.environment["ORPO_FIXTURE_VERBOSE"] != nil {
                    FileHandle.standardError.write(Data("grad \(name) rel \(rel) cos \(cosine) norm \(refNorm.squareRoot())\n".utf8))
                }
                #expect(rel < 1e-3 && cosine > 0.9999, "\(name): relative error \(rel), cosine \(cosine)")
                checked += 1
            }
        }
        FileHandle.standardError.write(Data("orpo fixture \(name): \(checked) gradients, worst relative error \(worst)\n".utf8))
        #expect(checked == run.adapter.modules.count * 2)
        #expect(checked == grads.tensorNames.count, "every gradient of the fixture is compared")
    }

    /// The training forward and the inference forward (GemmaModel with the adapter applied
    /// unmerged) must agree: same logits for the first chosen sequence.
    @Test(arguments: fixtures) func trainingForwardMatchesInference(_ name: String) throws {
        let run = try Run.get(name)
        let model = run.loaded.model
        try AdapterLoader.apply(run.directory + "/adapter", to: model)
        defer { for l in 0..<model.config.layerCount { for r in LayerTensor.linearRoles { model.setLoRA(layer: l, role: r, nil) } } }
        let ids = run.batch.tokens.sequences[0]
        let logits = try model.forward(ids, cache: KVCache(config: model.config), logits: .all)
        let V = model.config.vocabularySize
        var worst: Float = 0
        for t in 0..<ids.count {
            let mine = try #require(run.pass.logits(row: t))
            for j in stride(from: 0, to: V, by: 97) { worst = max(worst, abs(mine[j] - logits[t * V + j])) }
        }
        #expect(worst < 2e-3, "largest logit difference \(worst)")
    }
}
