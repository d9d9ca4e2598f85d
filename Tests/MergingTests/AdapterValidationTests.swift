import Adapters
import Foundation
import Gemma
import Merging
import Testing

/// Malformed adapters fail with an error that names the file and the tensor or key at fault, and
/// leave the model without any LoRA.
@Suite struct AdapterValidationTests {
    let dir: TemporaryDirectory
    let model: GemmaModel

    init() throws {
        dir = try TemporaryDirectory()
        model = try ModelLoader.loadModel(path: try TinyGemmaFile.write(to: dir("base.gguf")), pool: TinyGemmaFile.pool)
    }

    func adapter() -> RandomAdapter { RandomAdapter(model: TinyGemmaFile.config, modules: ["q_proj", "v_proj", "down_proj"]) }

    /// The message of the error applying the adapter written by `spec`, after checking it mentions `parts`.
    func failure(_ spec: RandomAdapter, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try spec.write(to: dir("bad-\(UUID().uuidString)"))
        do {
            try AdapterLoader.apply(path, to: model)
            Issue.record("the adapter was accepted", sourceLocation: sourceLocation)
        } catch {
            let message = "\(error)"
            for p in parts {
                #expect(message.contains(p), "'\(p)' not in: \(message)", sourceLocation: sourceLocation)
            }
        }
        for layer in model.weights.layers { #expect(layer.q.lora == nil && layer.down.lora == nil, sourceLocation: sourceLocation) }
    }

    func editConfig(_ spec: RandomAdapter, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let path = try spec.write(to: dir("cfg-\(UUID().uuidString)"))
        let url = URL(fileURLWithPath: path + "/adapter_config.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return path
    }

    func configFailure(_ edit: (inout [String: Any]) -> Void, _ parts: [String]) throws {
        let path = try editConfig(adapter(), edit)
        let error = #expect(throws: (any Error).self) { try AdapterLoader.apply(path, to: model) }
        let message = error.map { "\($0)" } ?? ""
        for p in parts + ["adapter_config.json"] { #expect(message.contains(p), "'\(p)' not in: \(message)") }
    }

    @Test func goodAdapterSetsFactorsOnTheTargetedLayersOnly() throws {
        let path = try adapter().write(to: dir("good"))
        let loaded = try AdapterLoader.apply(path, to: model)
        #expect(loaded.modules.count == 6 * 3)
        let layer = model.weights.layers[2]
        #expect(layer.q.lora?.rank == 4 && layer.v.lora != nil && layer.down.lora != nil)
        #expect(layer.k.lora == nil && layer.o.lora == nil && layer.gate.lora == nil && layer.up.lora == nil)
        #expect(layer.q.lora?.scale == 2)
    }

    @Test func rsLoRAScalesByTheSquareRootOfTheRank() throws {
        let path = try RandomAdapter(model: TinyGemmaFile.config, r: 4, alpha: 8, modules: ["q_proj"], useRslora: true)
            .write(to: dir("rs"))
        try AdapterLoader.apply(path, to: model)
        #expect(model.weights.layers[0].q.lora?.scale == 4)
    }

    @Test func missingTensorIsNamed() throws {
        var spec = adapter()
        let name = spec.name(layer: 3, module: "v_proj", factor: "B")
        spec.omit = [name]
        try failure(spec, ["adapter_model.safetensors", name, "missing"])
    }

    @Test func wrongShapeNamesTheTensorAndBothShapes() throws {
        var spec = adapter()
        let name = spec.name(layer: 1, module: "down_proj", factor: "A")
        spec.misshape = [name]
        try failure(spec, ["adapter_model.safetensors", name, "[5, 128]", "[4, 128]"])
    }

    @Test func tensorsOfLayersBeyondTheModelAreRefused() throws {
        var spec = adapter()
        let name = spec.name(layer: 6, module: "q_proj", factor: "A")
        spec.extra = [(name, [4, 64])]
        try failure(spec, ["adapter_model.safetensors", name, "layer 6", "6 layers"])
    }

    @Test func namesWithTheDefaultAdapterSegmentAreRead() throws {
        var spec = adapter()
        spec.adapterSegment = ".default"
        try AdapterLoader.apply(try spec.write(to: dir("named")), to: model)
        #expect(model.weights.layers[5].down.lora != nil)
    }

    @Test(arguments: ["base_model.model.model.language_model.layers.", "base_model.model.language_model.model.layers."])
    func multimodalGemma3PrefixesAreRead(_ prefix: String) throws {
        var spec = adapter()
        spec.prefix = prefix
        try AdapterLoader.apply(try spec.write(to: dir("mm")), to: model)
        #expect(model.weights.layers[0].q.lora != nil)
    }

    @Test func unknownTargetModuleIsRefused() throws {
        try configFailure({ $0["target_modules"] = ["q_proj", "lm_head"] }, ["lm_head"])
    }

    @Test func biasOtherThanNoneIsRefused() throws {
        try configFailure({ $0["bias"] = "lora_only" }, ["bias", "lora_only"])
    }

    @Test func doraIsRefused() throws {
        try configFailure({ $0["use_dora"] = true }, ["DoRA"])
    }

    @Test func malformedConfigNamesTheKey() throws {
        try configFailure({ $0["r"] = "four" }, ["'r'"])
        try configFailure({ $0.removeValue(forKey: "lora_alpha") }, ["lora_alpha"])
    }

    @Test func missingWeightsFileIsNamed() throws {
        let path = try adapter().write(to: dir("noweights"))
        try FileManager.default.removeItem(atPath: path + "/adapter_model.safetensors")
        let error = #expect(throws: (any Error).self) { try AdapterLoader.apply(path, to: model) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(path + "/adapter_model.safetensors"))
    }

    @Test func corruptArchiveIsReported() throws {
        let path = dir("broken.tar.gz")
        try Data("not a gzip stream".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: (any Error).self) { try AdapterLoader.apply(path, to: model) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("broken.tar.gz"))
    }

    @Test func adapterNames() {
        #expect(AdapterLoader.adapterName(path: "runs/banking-lora") == "banking-lora")
        #expect(AdapterLoader.adapterName(path: "runs/banking-lora/") == "banking-lora")
        #expect(AdapterLoader.adapterName(path: "/tmp/banking-lora.tar.gz") == "banking-lora")
        #expect(AdapterLoader.adapterName(path: "banking-lora.tgz") == "banking-lora")
    }
}
