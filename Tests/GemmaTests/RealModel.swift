import Foundation
import Gemma
import Inference
import TensorKit
import TestSupport

/// The default model (TestSupport.RealModel) loaded for GemmaTests, once per precision.
extension RealModel {
    static let pool = try! ComputePool(threads: 2)

    /// Loaded once per precision for the whole test run.
    nonisolated(unsafe) private static var cache: [MatmulPrecision: LoadedModel] = [:]
    private static let lock = NSLock()

    static func load(_ precision: MatmulPrecision) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        if let m = cache[precision] { return m }
        let m = try ModelLoader.load(path: path, pool: pool, precision: precision)
        cache[precision] = m
        return m
    }
}

/// One line of the reference fixture, Tests/Fixtures/gemma-3-270m-reference.jsonl.
struct ReferenceCase: Decodable {
    let prompt: String
    let ids: [Int]
    let top10: [[Double]]
    let greedy_ids: [Int]
    let greedy_margins: [Double]
    let greedy_text: String

    static func all() throws -> [ReferenceCase] {
        let url = URL(fileURLWithPath: SharedFixtures.path("gemma-3-270m-reference.jsonl"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(ReferenceCase.self, from: Data($0.utf8)) }
    }
}
