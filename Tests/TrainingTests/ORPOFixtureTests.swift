import Foundation
import Gemma
import ModelFormats
import TensorKit
import Testing
@testable import Training

/// The proof of the training path: one batch of four pairs through TRL + PEFT on the default
/// model (Fixtures/orpo) must come out the same here: tokens, loss, every metric TRL logs, and
/// the gradient of every LoRA factor.
@Suite(.serialized, .enabled(if: RealModel.isAvailable))
struct ORPOFixtureTests {
    /// One forward and backward over the fixture batch, shared by the tests below.
    final class Run: @unchecked Sendable {
        let loaded: LoadedModel
        let expected: ORPOFixture.Expected
        let batch: PreferenceBatch
        let adapter: LoRAAdapter
        let pass: ForwardPass
        let result: ORPOResult

        init() throws {
            let pool = try ComputePool(threads: 2)
            loaded = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
            expected = try ORPOFixture.expected()
            batch = try PreferenceBatch(pairs: expected.tokenized, padID: loaded.model.config.padID ?? 0)
            adapter = try PEFTAdapter.read(path: ORPOFixture.directory + "/adapter", model: loaded.model.config)
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

        nonisolated(unsafe) private static var shared: Run?
        private static let lock = NSLock()

        static func get() throws -> Run {
            lock.lock()
            defer { lock.unlock() }
            if let shared { return shared }
            let run = try Run()
            shared = run
            return run
        }
    }

    @Test func tokenisationMatchesTRL() throws {
        let run = try Run.get()
        let c = run.loaded.model.config
        let tokenizer = PreferenceTokenizer(tokenizer: run.loaded.tokenizer, bosID: c.bosID, eosID: c.eosIDs[0],
                                            maxLength: run.expected.max_length)
        let pairs = try PreferencePairReader.read(paths: [ORPOFixture.directory + "/pairs.jsonl"])
        #expect(pairs.count == run.batch.pairs.count)
        for (pair, reference) in zip(pairs, run.batch.pairs) {
            let mine = try tokenizer.tokenize(pair)
            #expect(mine == reference, "\(pair.prompt)")
        }
    }

    @Test func lossAndMetricsMatchTRL() throws {
        let run = try Run.get()
        func check(_ name: String, _ mine: Double, _ reference: Double) {
            let rel = abs(mine - reference) / max(abs(reference), 1e-6)
            FileHandle.standardError.write(Data("orpo fixture: \(name) \(mine) vs \(reference) (relative \(rel))\n".utf8))
            #expect(rel < 1e-3, "\(name): \(mine) vs TRL's \(reference)")
        }
        check("loss", run.result.loss, run.expected.loss)
        for (name, value) in run.result.metrics.named {
            guard let reference = run.expected.metrics[name] else {
                Issue.record("metric \(name) missing from the fixture")
                continue
            }
            check(name, value, reference)
        }
    }

    @Test func gradientsMatchPyTorch() throws {
        let run = try Run.get()
        let grads = try SafetensorsFile(path: ORPOFixture.directory + "/grads.safetensors")
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
        FileHandle.standardError.write(Data("orpo fixture: \(checked) gradients, worst relative error \(worst)\n".utf8))
        #expect(checked == 18 * 7 * 2)
    }

    /// The training forward and the inference forward (GemmaModel with the adapter applied
    /// unmerged) must agree: same logits for the first chosen sequence.
    @Test func trainingForwardMatchesInference() throws {
        let run = try Run.get()
        let model = run.loaded.model
        try AdapterLoader.apply(ORPOFixture.directory + "/adapter", to: model)
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
