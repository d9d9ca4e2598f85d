import Adapters
import Archive
import Foundation
import Gemma
import ModelFormats
import TensorKit
import Testing
@testable import Training

/// PEFT adapter files: round trips (directory and .tar.gz), the fixture adapter as PEFT wrote it,
/// and malformed configurations and tensors named in the errors.
@Suite struct PEFTAdapterTests {
    static let config = GemmaConfig(architecture: .gemma3, hiddenSize: 8, intermediateSize: 16, layerCount: 2,
                                    headCount: 2, kvHeadCount: 1, headDim: 4, vocabularySize: 32)

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("peft-\(UUID().uuidString)-\(name)").path
    }

    static func sampleAdapter() throws -> LoRAAdapter {
        let adapter = try LoRAAdapter.initialized(
            config: AdapterConfig(r: 2, loraAlpha: 8, targetModules: ["q_proj", "v_proj", "down_proj"],
                                  baseModelNameOrPath: "google/gemma-3-270m"),
            model: config, seed: 3)
        for m in adapter.modules { for j in 0..<m.parameters.b.count { m.parameters.b[j] = Float(j) * 0.01 - 0.02 } }
        return adapter
    }

    func expectEqual(_ x: LoRAAdapter, _ y: LoRAAdapter) {
        #expect(x.config == y.config)
        #expect(x.modules.count == y.modules.count)
        for (a, b) in zip(x.modules, y.modules) {
            #expect(a.layer == b.layer && a.role == b.role)
            #expect(a.parameters.a.array == b.parameters.a.array && a.parameters.b.array == b.parameters.b.array)
            #expect(a.parameters.scale == b.parameters.scale)
        }
    }

    @Test(arguments: ["adapter", "adapter.tar.gz"])
    func roundTrip(_ name: String) throws {
        let adapter = try Self.sampleAdapter()
        let path = Self.temporaryPath(name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PEFTAdapter.write(adapter.peftAdapter, to: path)
        expectEqual(adapter, try LoRAAdapter(PEFTAdapter.read(path: path, model: Self.config)))
    }

    @Test func writtenFilesAreWhatPEFTReads() throws {
        let path = Self.temporaryPath("adapter")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PEFTAdapter.write(try Self.sampleAdapter().peftAdapter, to: path)
        let file = try SafetensorsFile(path: path + "/adapter_model.safetensors")
        #expect(file.metadata == ["format": "pt"])
        let info = try file.tensorInfo("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight")
        #expect(info.shape == [2, 16] && info.dtype == .f32)
        #expect(try file.tensorInfo("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight").shape == [4, 2])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + "/adapter_config.json"))) as? [String: Any]
        for key in ["peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules", "bias",
                    "fan_in_fan_out", "use_rslora", "base_model_name_or_path", "inference_mode"] {
            #expect(json?[key] != nil, "\(key)")
        }
        #expect(json?["peft_type"] as? String == "LORA")
    }

    @Test func scaleFollowsRSLoRA() {
        var c = AdapterConfig(r: 4, loraAlpha: 8, targetModules: ["q_proj"])
        #expect(c.scale == 2)
        c.useRslora = true
        #expect(c.scale == 4)
    }

    @Test func fixtureAdapterReads() throws {
        let gemma = GemmaConfig(architecture: .gemma3, hiddenSize: 640, intermediateSize: 2048, layerCount: 18,
                                headCount: 4, kvHeadCount: 1, headDim: 256, vocabularySize: 262144)
        let adapter = try PEFTAdapter.read(path: Bundle.module.resourcePath! + "/Fixtures/orpo/adapter", model: gemma)
        #expect(adapter.modules.count == 18 * 7)
        #expect(adapter.config.r == 4 && adapter.config.scale == 2)
        #expect(adapter.layers[3][.gate]?.a.count == 4 * 640)
        #expect(adapter.layers[3][.o]?.b.count == 640 * 4)
    }

    /// Writes a sample adapter, lets `corrupt` damage its directory, and expects an error whose
    /// text contains `fragment`.
    func expectFailure(_ fragment: String, _ corrupt: (String) throws -> Void) throws {
        let path = Self.temporaryPath("adapter")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PEFTAdapter.write(try Self.sampleAdapter().peftAdapter, to: path)
        try corrupt(path)
        do {
            _ = try PEFTAdapter.read(path: path, model: Self.config)
            Issue.record("reading a damaged adapter succeeded (expected '\(fragment)')")
        } catch let error as AdapterError {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    func rewriteConfig(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
        let file = path + "/adapter_config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
    }

    @Test func malformedConfigurationsAreNamed() throws {
        try expectFailure("missing key 'r'") { try rewriteConfig($0) { $0["r"] = nil } }
        // Issue 20, item 1: a finite lora_alpha whose scale, or whose updates, leave float32's range.
        try expectFailure("gives a scale beyond the range of float32") { try rewriteConfig($0) { $0["lora_alpha"] = 1e308 } }
        try expectFailure("the adapter would make the model's weights overflow") { try rewriteConfig($0) { $0["lora_alpha"] = 1e30 } }
        try expectFailure("key 'lora_alpha'") { try rewriteConfig($0) { $0["lora_alpha"] = "eight" } }
        try expectFailure("target module 'fc1'") { try rewriteConfig($0) { $0["target_modules"] = ["fc1"] } }
        try expectFailure("alpha_pattern") { try rewriteConfig($0) { $0["alpha_pattern"] = ["q_proj": 16] } }
        try expectFailure("use_dora") { try rewriteConfig($0) { $0["use_dora"] = true } }
        try expectFailure("peft_type") { try rewriteConfig($0) { $0["peft_type"] = "IA3" } }
        try expectFailure("not supported") { try rewriteConfig($0) { $0["target_modules"] = ".*proj" } }
        try expectFailure("not valid JSON") { path in
            try Data("{\"r\": 2,".utf8).write(to: URL(fileURLWithPath: path + "/adapter_config.json"))
        }
        try expectFailure("adapter_config.json") { try FileManager.default.removeItem(atPath: $0 + "/adapter_config.json") }
    }

    @Test func missingOrMisshapenTensorsAreNamed() throws {
        try expectFailure("adapter_model.safetensors") { path in
            try FileManager.default.removeItem(atPath: path + "/adapter_model.safetensors")
        }
        // Rank 3 in the config but rank-2 factors in the file.
        try expectFailure("has shape [2, 8], expected [3, 8]") { try rewriteConfig($0) { $0["r"] = 3 } }
        // A module the config names but the file lacks.
        try expectFailure("up_proj.lora_A.weight' is missing") { path in
            try rewriteConfig(path) { $0["target_modules"] = ["q_proj", "v_proj", "down_proj", "up_proj"] }
        }
        try expectFailure("adapter_model.safetensors") { path in
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path + "/adapter_model.safetensors"))
        }
    }

    @Test func archiveWithoutAdapterIsAnError() throws {
        let dir = Self.temporaryPath("empty"), archive = Self.temporaryPath("empty.tar.gz")
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: archive)
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/README"))
        try TarGzWriter.write(directory: dir, to: archive)
        #expect(throws: AdapterError.self) { try PEFTAdapter.read(path: archive, model: Self.config) }
    }

    /// Issue 20, item 1: a NaN or infinity in a factor is a corrupt file, refused naming the tensor,
    /// from a directory and from an archive alike.
    @Test(arguments: ["adapter", "adapter.tar.gz"])
    func nonFiniteWeightsAreRefused(_ name: String) throws {
        let adapter = try Self.sampleAdapter()
        let module = try #require(adapter.modules.first { $0.layer == 1 && $0.role == .v })
        module.parameters.b[3] = .nan
        module.parameters.b[4] = .infinity
        let path = Self.temporaryPath(name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PEFTAdapter.write(adapter.peftAdapter, to: path)
        do {
            _ = try PEFTAdapter.read(path: path, model: Self.config)
            Issue.record("an adapter with non-finite weights was read")
        } catch let error as AdapterError {
            #expect(error.description.contains("layers.1.self_attn.v_proj.lora_B.weight' holds 2 non-finite values"), "\(error)")
            #expect(error.description.hasPrefix(path), "\(error)")
        }
    }

    /// Issue 20, item 6: from an archive only adapter_config.json and the weights are read, each
    /// within its limit; other members (however large) are skipped, and the adapter may sit in one
    /// directory of the archive.
    @Test func archiveMembersAreReadWithinLimits() throws {
        let dir = Self.temporaryPath("src"), archive = Self.temporaryPath("a.tar.gz")
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: archive)
        }
        let adapter = try Self.sampleAdapter()
        try PEFTAdapter.write(adapter.peftAdapter, to: dir + "/run-7")
        try Data(count: 20_000_000).write(to: URL(fileURLWithPath: dir + "/run-7/optimizer.bin"))
        try TarGzWriter.write(directory: dir, to: archive)
        expectEqual(adapter, try LoRAAdapter(PEFTAdapter.read(path: archive, model: Self.config)))

        // A config over its limit is refused by its header's size, naming the member.
        let configPath = dir + "/run-7/adapter_config.json"
        var text = try String(contentsOfFile: configPath, encoding: .utf8)
        text += String(repeating: " ", count: PEFTAdapter.ArchiveLimits.configBytes)
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: archive)
        try TarGzWriter.write(directory: dir, to: archive)
        do {
            _ = try PEFTAdapter.read(path: archive, model: Self.config)
            Issue.record("an over-limit adapter_config.json was read")
        } catch let error as AdapterError {
            #expect(error.description.contains("run-7/adapter_config.json: is \(text.utf8.count) bytes, over the 1048576-byte limit"), "\(error)")
        }
    }

    /// The same member twice in an archive (once plain, once as "./name") is refused: extracting
    /// would keep the last, reading would have to guess.
    @Test func aMemberStoredTwiceIsRefused() throws {
        let dir = Self.temporaryPath("twice"), archive = Self.temporaryPath("twice.tar.gz")
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: archive)
        }
        try PEFTAdapter.write(try Self.sampleAdapter().peftAdapter, to: dir)
        let config = dir + "/adapter_config.json", weights = dir + "/adapter_model.safetensors"
        try TarGzWriter.write(files: [("adapter_config.json", config), ("adapter_model.safetensors", weights),
                                      ("./adapter_config.json", config)], to: archive)
        do {
            _ = try PEFTAdapter.read(path: archive, model: Self.config)
            Issue.record("an archive holding adapter_config.json twice was read")
        } catch let error as AdapterError {
            #expect(error.description.contains("adapter_config.json: is in the archive twice"), "\(error)")
        }
    }
}
