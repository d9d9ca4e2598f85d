import Adapters

// The trainer's adapter and the Adapters library's: a read adapter becomes trainable, a trained one
// is written and applied as plain factors.

extension LoRAAdapter {
    /// Trainable copies of `adapter`'s factors, gradients zero.
    public convenience init(_ adapter: PEFTAdapter) throws {
        self.init(config: adapter.config, layers: try adapter.layers.map { layer in
            try layer.mapValues { try LoRAParameters($0) }
        })
    }

    /// The current factors as plain arrays, without gradients: what PEFT files and GemmaModel hold.
    public var peftAdapter: PEFTAdapter {
        PEFTAdapter(config: config, layers: layers.map { $0.mapValues(\.weights) })
    }
}
