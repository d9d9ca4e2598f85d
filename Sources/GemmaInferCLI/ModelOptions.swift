import Adapters
import ArgumentParser
import CommandLineTool
import Foundation
import Gemma
import TensorKit

struct ModelOptions: ParsableArguments {
    @OptionGroup var modelOption: ModelOption

    @Option(parsing: .unconditional, help: "Worker threads for the matrix products (default: all cores).")
    var threads: Int?

    @Flag(help: "Keep activations in float32 in every product (slower; the reference path).")
    var exact = false

    @Option(help: ArgumentHelp("PEFT LoRA adapter (directory or .tar.gz) applied at load without merging.", valueName: "path"))
    var adapter: String?

    /// The adapter's name for records: its directory or archive name without extension.
    var adapterName: String? { adapter.map(AdapterLoader.adapterName(path:)) }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var path: String { modelOption.path }
    var precision: MatmulPrecision { exact ? .exact : .fast }

    func load() throws -> LoadedModel { try load(pool: try makePool()) }

    /// The model with the adapter applied (the server reloads through this with its own pool).
    func load(pool: ComputePool) throws -> LoadedModel {
        let loaded = try ModelLoader.load(path: try checkedPath(), pool: pool, precision: precision)
        if let adapter { try AdapterLoader.apply(adapter, to: loaded.model) }
        return loaded
    }

    func checkedPath() throws -> String { try modelOption.checkedPath() }

    func makePool() throws -> ComputePool {
        try ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
