import Adapters
import Foundation
import Gemma
import ModelFormats

/// A PEFT LoRA adapter with random A and B (B nonzero, unlike a fresh one, so that merging
/// changes the logits), written as PEFT writes it: adapter_config.json and
/// adapter_model.safetensors with {"format": "pt"}. Hooks let tests corrupt single pieces.
struct RandomAdapter {
    var config: AdapterConfig
    var model: GemmaConfig
    var seed: UInt64 = 7
    /// PEFT's layer prefix; multimodal Gemma 3 and named adapters spell it differently.
    var prefix = "base_model.model.model.layers."
    /// Inserted before ".weight" (".default" for adapters saved with their name).
    var adapterSegment = ""
    /// Tensor names to leave out.
    var omit: Set<String> = []
    /// Tensor names to give a wrong shape (one more row).
    var misshape: Set<String> = []
    /// Extra tensors, e.g. for a layer the model does not have.
    var extra: [(name: String, shape: [Int])] = []

    init(model: GemmaConfig, r: Int = 4, alpha: Double = 8, modules: [String] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], useRslora: Bool = false) {
        self.model = model
        config = AdapterConfig(r: r, loraAlpha: alpha, targetModules: modules, useRslora: useRslora)
    }

    func name(layer i: Int, module: String, factor: String) -> String {
        let block = ["gate_proj", "up_proj", "down_proj"].contains(module) ? "mlp" : "self_attn"
        return "\(prefix)\(i).\(block).\(module).lora_\(factor)\(adapterSegment).weight"
    }

    /// Writes the adapter directory and returns its path.
    @discardableResult
    func write(to directory: String, scale: Float = 0.3) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: seed)
        var writer = SafetensorsWriter()
        writer.setMetadata("format", "pt")
        func add(_ name: String, _ shape: [Int]) throws {
            guard !omit.contains(name) else { return }
            let s = misshape.contains(name) ? [shape[0] + 1, shape[1]] : shape
            let values = (0..<(s[0] * s[1])).map { _ in Float.random(in: -scale...scale, using: &rng) }
            try writer.addTensor(name: name, shape: s, floats: values)
        }
        for i in 0..<model.layerCount {
            for m in config.targetModules {
                guard let role = LayerTensor(peftModule: m), let s = model.linearShape(role) else { continue }
                try add(name(layer: i, module: m, factor: "A"), [config.r, s.in])
                try add(name(layer: i, module: m, factor: "B"), [s.out, config.r])
            }
        }
        for e in extra { try add(e.name, e.shape) }
        try writer.write(to: directory + "/adapter_model.safetensors")
        try config.write(path: directory + "/adapter_config.json")
        return directory
    }
}
