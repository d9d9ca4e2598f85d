import Gemma

/// Applies a PEFT LoRA adapter to a loaded model for inference without merging: each adapted
/// linear layer then computes W x + scale · B (A x) (GemmaModel's LoRA path).
public enum AdapterLoader {
    /// Reads the adapter at `adapterPath` (directory or `.tar.gz`) and sets its factors on
    /// `model`, replacing any adapter already applied. Returns the adapter read.
    @discardableResult
    public static func apply(_ adapterPath: String, to model: GemmaModel) throws -> PEFTAdapter {
        let adapter = try PEFTAdapter.read(path: adapterPath, model: model.config)
        apply(adapter, to: model)
        return adapter
    }

    /// Sets `adapter`'s factors on `model` (layers it does not adapt lose any LoRA).
    public static func apply(_ adapter: PEFTAdapter, to model: GemmaModel) {
        for (i, layer) in adapter.layers.enumerated() {
            for role in LayerTensor.linearRoles {
                model.setLoRA(layer: i, role: role, layer[role])
            }
        }
    }
}
