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
///
/// Two paths are checked: the reference (`packedForward: false`, `orpo-train --exact`: float32 in
/// every product) at the tolerances below, and the default, whose forward runs the frozen weights
/// on the packed int8 kernel (activations rounded to 16 bits per 32 values), at the looser ones
/// its rounding needs; on CPUs without VNNI both are the reference.
@Suite(.serialized, .enabled(if: RealModel.isAvailable))
struct ORPOFixtureTests {
    static let fixtures = ["orpo", "orpo-chat"]

    /// One forward and backward over a fixture batch on each path, shared by the tests below.
    final class Run: @unchecked Sendable {
        /// One path's pass: the adapter holds its gradients.
        struct Path {
            let adapter: LoRAAdapter
            let pass: ForwardPass
            let result: ORPOResult
        }

        let loaded: LoadedModel
        let expected: ORPOFixture.Expected
        let batch: PreferenceBatch
        let reference: Path
        let packed: Path

        let directory: String

        func path(packed: Bool) -> Path { packed ? self.packed : reference }

        init(_ name: String) throws {
            let pool = try ComputePool(threads: 2)
            directory = ORPOFixture.directory(name)
            loaded = try ModelLoader.load(path: RealModel.path, pool: pool, precision: .exact)
            expected = try ORPOFixture.expected(name)
            batch = try PreferenceBatch(pairs: expected.tokenized, padID: loaded.model.config.padID ?? 0)
            let (loaded, expected, batch, directory) = (loaded, expected, batch, directory)
            // One path at a time, so that one copy of the float weights is held.
            func run(packed: Bool) throws -> Path {
                let adapter = try LoRAAdapter(PEFTAdapter.read(path: directory + "/adapter", model: loaded.model.config))
                // A training pass, as TRL's was, at the fixture adapter's lora_dropout of 0 (TRL ran
                // with dropout 0 so that its gradients are deterministic).
                guard adapter.config.loraDropout == 0 else {
                    throw TrainingError.invalidArgument("the ORPO fixture adapter must have lora_dropout 0")
                }
                let trainable = try TrainableGemma(model: loaded.model, adapter: adapter, pool: pool, packedForward: packed)
                let pass = try trainable.forward(batch.tokens, keepLogits: !packed, dropoutSeed: 0)
                let result = try ORPOLoss.evaluate(pass, batch: batch, beta: expected.beta)
                try trainable.backward(pass, dLogProbs: result.dLogProbs)
                return Path(adapter: adapter, pass: pass, result: result)
            }
            reference = try run(packed: false)
            packed = try run(packed: true)
        }
    }

    /// Each fixture's run is made once (a model load and a pass on each path) and every check
    /// below reads it.
    @Test(arguments: fixtures) func fixtureMatchesTRL(_ name: String) throws {
        let run = try Run(name)
        try tokenisationMatchesTRL(run, name)
        for packed in [false, true] {
            lossAndMetricsMatchTRL(run, name, packed: packed)
            try gradientsMatchPyTorch(run, name, packed: packed)
        }
        try trainingForwardMatchesInference(run)
    }

    /// orpo-train's reading of pairs.jsonl (text or conversational form) with its default
    /// max_prompt_length for the fixture's max_length gives exactly TRL's ids and labels.
    func tokenisationMatchesTRL(_ run: Run, _ name: String) throws {
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

    /// Every value within 1e-3 of TRL's, relatively; on the packed path within 1e-3 relatively
    /// or 2e-4 absolutely (the margins and log-odds are differences of nearly equal log-probs,
    /// where the packed path's 1e-5 of relative error in each becomes up to 3e-3 of the difference).
    func lossAndMetricsMatchTRL(_ run: Run, _ name: String, packed: Bool) {
        let path = run.path(packed: packed)
        func check(_ metric: String, _ mine: Double, _ reference: Double) {
            let rel = abs(mine - reference) / max(abs(reference), 1e-6)
            let path = packed ? "packed" : "reference"
            FileHandle.standardError.write(Data("orpo fixture \(name), \(path): \(metric) \(mine) vs \(reference) (relative \(rel))\n".utf8))
            #expect(rel < 1e-3 || (packed && abs(mine - reference) < 2e-4), "\(name), \(path): \(metric): \(mine) vs TRL's \(reference)")
        }
        check("loss", path.result.loss, run.expected.loss)
        for (metric, value) in path.result.metrics.named {
            guard let reference = run.expected.metrics[metric] else {
                Issue.record("metric \(metric) missing from the fixture \(name)")
                continue
            }
            check(metric, value, reference)
        }
    }

    /// Every LoRA factor's gradient within 1e-3 of PyTorch's in relative norm (3e-3 on the packed
    /// path), with a cosine above 0.9999.
    func gradientsMatchPyTorch(_ run: Run, _ name: String, packed: Bool) throws {
        let path = run.path(packed: packed)
        let bound = packed ? 3e-3 : 1e-3
        let grads = try SafetensorsFile(path: run.directory + "/grads.safetensors")
        var checked = 0, worst = 0.0
        for m in path.adapter.modules {
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
                #expect(rel < bound && cosine > 0.9999, "\(name): relative error \(rel), cosine \(cosine)")
                checked += 1
            }
        }
        FileHandle.standardError.write(Data("orpo fixture \(name), \(packed ? "packed" : "reference"): \(checked) gradients, worst relative error \(worst)\n".utf8))
        #expect(checked == path.adapter.modules.count * 2)
        #expect(checked == grads.tensorNames.count, "every gradient of the fixture is compared")
    }

    /// The training forward and the inference forward (GemmaModel with the adapter applied
    /// unmerged) must agree: same logits for the first chosen sequence.
    func trainingForwardMatchesInference(_ run: Run) throws {
        let model = run.loaded.model
        try AdapterLoader.apply(run.directory + "/adapter", to: model)
        defer { for l in 0..<model.config.layerCount { for r in LayerTensor.linearRoles { model.setLoRA(layer: l, role: r, nil) } } }
        let ids = run.batch.tokens.sequences[0]
        let logits = try model.forward(ids, cache: KVCache(config: model.config), logits: .all)
        let V = model.config.vocabularySize
        var worst: Float = 0
        for t in 0..<ids.count {
            let mine = try #require(run.reference.pass.logits(row: t))
            for j in stride(from: 0, to: V, by: 97) { worst = max(worst, abs(mine[j] - logits[t * V + j])) }
        }
        #expect(worst < 2e-3, "largest logit difference \(worst)")
    }
}
