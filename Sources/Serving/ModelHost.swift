import Foundation
import Gemma
import Inference

/// Holds the engine requests are answered with (and the batcher that steps their decoding), and
/// swaps both for freshly loaded ones on reload.
///
/// A request takes the current engine once, when it starts, and keeps it to the end: a reload
/// never touches an engine in use, so requests in flight finish on the old model (batched with
/// each other) while new ones start on the new; the old model is freed when its last request ends.
public final class ModelHost: @unchecked Sendable {
    /// A loaded model's engine and its batcher: taken together by a request.
    struct Serving {
        let engine: RecordInference
        let batcher: DecodeBatcher

        init(_ engine: RecordInference) {
            self.engine = engine
            batcher = DecodeBatcher(generator: engine.model.generator)
        }
    }

    private let lock = NSLock()
    private let reloadLock = NSLock()
    private var current: Serving
    private var reloadCount = 0
    private let load: @Sendable () throws -> LoadedModel
    private let settings: InferenceSettings
    private let adapterName: String?

    /// Loads the model once now; `load` is called again on every reload. `adapterName` is what
    /// the log's `adapter` field says (nil: no adapter).
    public init(settings: InferenceSettings, adapterName: String? = nil,
                load: @escaping @Sendable () throws -> LoadedModel) throws {
        self.load = load
        self.settings = settings
        self.adapterName = adapterName
        current = Serving(RecordInference(model: try load(), settings: settings, adapterName: adapterName))
    }

    /// The engine for a request starting now.
    public var engine: RecordInference { serving.engine }

    /// The engine and batcher for a request starting now.
    var serving: Serving {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// Reloads completed so far.
    public var reloads: Int {
        lock.lock()
        defer { lock.unlock() }
        return reloadCount
    }

    /// Loads the model again and switches new requests over to it; a failed load leaves the old
    /// one serving. Blocking (reads the model file): call it off the event loop. Concurrent reloads
    /// run one after the other.
    @discardableResult
    public func reload() throws -> LoadedModel {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        let fresh = Serving(RecordInference(model: try load(), settings: settings, adapterName: adapterName))
        lock.lock()
        current = fresh
        reloadCount += 1
        lock.unlock()
        return fresh.engine.model
    }
}
