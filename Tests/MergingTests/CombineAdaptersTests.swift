import Adapters
import ArgumentParser
import Foundation
import Gemma
import LoRAMergeCLI
import Testing

/// `lora-merge --combine`: one adapter whose update is the weighted sum of several adapters'
/// updates, exactly, whatever their ranks, scales (rsLoRA too) and target modules.
@Suite struct CombineAdaptersTests {
    let dir: TemporaryDirectory
    let basePath: String
    let firstPath: String
    let secondPath: String

    init() throws {
        dir = try TemporaryDirectory()
        basePath = try TinyGemmaFile.write(to: dir("base.gguf"))
        firstPath = try RandomAdapter(model: TinyGemmaFile.config).write(to: dir("first"))
        var second = RandomAdapter(model: TinyGemmaFile.config, r: 2, alpha: 4, modules: ["q_proj", "v_proj", "down_proj"], useRslora: true)
        second.seed = 11
        secondPath = try second.write(to: dir("second"))
    }

    func read(_ path: String) throws -> PEFTAdapter { try PEFTAdapter.read(path: path, model: TinyGemmaFile.config) }

    /// scale · B A, out × in, row-major.
    static func update(_ f: LoRAWeights) -> [Double] {
        let out = f.outFeatures, inn = f.inFeatures
        var w = [Double](repeating: 0, count: out * inn)
        for i in 0..<out {
            for k in 0..<f.rank {
                let b = Double(f.b[i * f.rank + k]) * Double(f.scale)
                for j in 0..<inn { w[i * inn + j] += b * Double(f.a[k * inn + j]) }
            }
        }
        return w
    }

    /// Every module's update against Σ wᵢ · updateᵢ, a module an adapter lacks counting as zero.
    func expectWeightedSum(_ combined: PEFTAdapter, _ parts: [(PEFTAdapter, Double)]) {
        for m in combined.modules {
            var expected = [Double](repeating: 0, count: m.factors.outFeatures * m.factors.inFeatures)
            for (adapter, weight) in parts {
                guard let f = adapter.layers[m.layer][m.role] else { continue }
                for (i, v) in Self.update(f).enumerated() { expected[i] += weight * v }
            }
            let worst = zip(Self.update(m.factors), expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-6, "layer \(m.layer) \(m.role): max |Δ| \(worst)")
        }
    }

    @Test(arguments: [(0.25, 0.75), (1.0, -0.5), (-2.0, 3.0)])
    func theUpdateIsTheWeightedSumOfTheUpdates(_ w1: Double, _ w2: Double) throws {
        let first = try read(firstPath), second = try read(secondPath)
        let combined = try PEFTAdapter.combine([.init(first, weight: w1), .init(second, weight: w2)])
        #expect(combined.config.r == 6 && combined.config.loraAlpha == 6 && !combined.config.useRslora)
        #expect(combined.config.targetModules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        #expect(combined.modules.count == TinyGemmaFile.config.layerCount * 7)
        expectWeightedSum(combined, [(first, w1), (second, w2)])
    }

    /// Weights 1 and 0 give the first adapter's logits: what the file holds is what is applied.
    @Test func weightOneOnAnAdapterGivesItsLogits() throws {
        let out = dir("blend.tar.gz")
        try LoRAMergeCommand.parse(["--model", basePath, "--combine", firstPath + "=1", "--combine", secondPath + "=0", "-o", out]).run()
        func logits(_ adapter: String) throws -> [Float] {
            let model = try ModelLoader.loadModel(path: basePath, pool: TinyGemmaFile.pool, precision: .exact)
            try AdapterLoader.apply(adapter, to: model)
            return try TinyGemmaFile.logits(model)
        }
        #expect(TinyGemmaFile.maxDifference(try logits(out), try logits(firstPath)) < 1e-4)
    }

    @Test func theToolWritesTheCombinationAsAnAdapter() throws {
        let out = dir("blend")
        try LoRAMergeCommand.parse(["--model", basePath, "--combine", firstPath + "=0.25", "--combine", secondPath + "=0.75", "-o", out]).run()
        let written = try read(out)
        #expect(written.config.r == 6)
        expectWeightedSum(written, [(try read(firstPath), 0.25), (try read(secondPath), 0.75)])
    }

    /// A malformed PATH=WEIGHT, or an option that has no meaning with --combine, is a usage error
    /// naming the value or the option.
    @Test(arguments: [
        (["--combine", "a"], "--combine"),                       // no weight
        (["--combine", "a=x"], "--combine"),                     // not a number
        (["--combine", "=0.5"], "--combine"),                    // no path
        (["--combine", "a=nan"], "--combine"),                   // not finite
        (["--combine", "a=1e400"], "--combine"),                 // beyond a double
        (["--combine", "a=0.5", "--adapter", "b"], "--adapter"), // both modes
        (["--combine", "a=0.5", "--type", "q8_0"], "--type"),    // a merged model's type
        (["--combine", "a=0.5", "--type", "f32"], "--type"),     // even the default, given
        (["--combine", "a=0.5", "--threads", "2"], "--threads"), // no weights are loaded
        (["--combine", "a=0.5", "-o", "blend.GGUF"], "--output"), // a model file, not an adapter
    ])
    func badCombineArgumentsAreUsageErrors(_ args: [String], _ named: String) {
        do {
            _ = try LoRAMergeCommand.parse(args.contains("-o") ? args : args + ["-o", "out.tar.gz"])
            Issue.record("\(args) parsed")
        } catch {
            let message = LoRAMergeCommand.message(for: error)
            #expect(message.contains(named), "\(args): \(message)")
        }
    }

    @Test func theLastEqualsSignSplitsPathAndWeight() throws {
        let c = try LoRAMergeCommand.parse(["--combine", "runs/a=b.tar.gz=-0.5", "--combine", "c=2", "-o", "out"])
        #expect(c.combine == [.init(path: "runs/a=b.tar.gz", weight: -0.5), .init(path: "c", weight: 2)])
    }

    /// A missing or corrupt adapter, or weights so large that the result would overflow, stop the
    /// run with status 2 and write nothing.
    @Test(arguments: ["missing", "corrupt", "overflow"])
    func aFailedCombinationExitsWithStatus2AndWritesNothing(_ failure: String) throws {
        let out = dir("blend.tar.gz")
        var parts = [firstPath + "=0.5"]
        switch failure {
        case "missing": parts.append(dir("absent") + "=0.5")
        case "corrupt":
            try Data("not a gzip archive".utf8).write(to: URL(fileURLWithPath: dir("corrupt.tar.gz")))
            parts.append(dir("corrupt.tar.gz") + "=0.5")
        default: parts = [firstPath + "=1e300", secondPath + "=1e300"]
        }
        let command = try LoRAMergeCommand.parse(["--model", basePath] + parts.flatMap { ["--combine", $0] } + ["-o", out])
        do {
            try command.run()
            Issue.record("the combination succeeded")
        } catch let exit as ExitCode {
            #expect(exit.rawValue == 2)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The combination refuses to write an adapter its own reader would refuse.
    @Test func anOverflowingCombinationIsRefused() throws {
        let first = try read(firstPath)
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: 1e12)]) }
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: 1e300), .init(first, weight: 1e300)]) }
    }

    /// A part of weight 0 adds no rank; weights that are all 0 are refused.
    @Test func zeroWeightsAddNothing() throws {
        let first = try read(firstPath), second = try read(secondPath)
        let combined = try PEFTAdapter.combine([.init(first, weight: 0.5), .init(second, weight: 0)])
        #expect(combined.config.r == 4)
        expectWeightedSum(combined, [(first, 0.5)])
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: 0), .init(second, weight: 0)]) }
    }

    @Test func adaptersOfDifferentModelsAreRefused() throws {
        let first = try read(firstPath)
        var other = first
        other.layers.removeLast()
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: 1), .init(other, weight: 1)]) }
        var reshaped = first
        let q = reshaped.layers[0][.q]!
        reshaped.layers[0][.q] = LoRAWeights(rank: q.rank, a: q.a + [Float](repeating: 0, count: q.rank), b: q.b, scale: q.scale)
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: 1), .init(reshaped, weight: 1)]) }
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([]) }
        #expect(throws: AdapterError.self) { try PEFTAdapter.combine([.init(first, weight: .infinity)]) }
    }
}
