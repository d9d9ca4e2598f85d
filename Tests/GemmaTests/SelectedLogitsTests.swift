import Foundation
import Gemma
import TensorKit
import Testing

/// `forward(_:cache:logitsOf:)` computes only some rows of the output head. On the tiny Gemma 1, 2
/// (with final soft-capping) and 3 checkpoints: the selected logits are the full head's entries, and
/// a softmax over them equals the full softmax renormalised over the same tokens.
@Suite struct SelectedLogitsTests {
    @Test(arguments: ["gemma", "gemma2", "gemma3"])
    func selectedRowsEqualTheFullSoftmaxRenormalised(_ arch: String) throws {
        let (model, expected) = try TinyModelTests.fixture(arch)
        let V = model.config.vocabularySize
        let ids = [3, V - 1, 7, 0]
        let full = try model.forward(expected.ids, cache: KVCache(config: model.config), logits: .last)
        let selected = try model.forward(expected.ids, cache: KVCache(config: model.config), logitsOf: ids)
        #expect(selected.count == ids.count)
        for (k, id) in ids.enumerated() { #expect(abs(selected[k] - full[id]) < 1e-5, "token \(id)") }

        let all = LogProbabilities(logits: full)
        let renormalised: [Double] = {
            let p = ids.map { exp(Double(all[$0])) }
            let total = p.reduce(0, +)
            return p.map { $0 / total }
        }()
        let m = selected.max()!
        let e = selected.map { exp(Double($0 - m)) }
        let softmax = e.map { $0 / e.reduce(0, +) }
        for (a, b) in zip(softmax, renormalised) { #expect(abs(a - b) < 1e-5, "\(softmax) vs \(renormalised)") }
    }

    /// After a prefix already in the cache (the judge's rollback), and with the fast 8-bit path:
    /// still the full head's entries.
    @Test func selectedRowsAfterACachedPrefixWithTheFastPath() throws {
        let (exactModel, expected) = try TinyModelTests.fixture("gemma3")
        exactModel.precision = .fast
        defer { exactModel.precision = .exact }
        let cache = KVCache(config: exactModel.config)
        _ = try exactModel.forward(Array(expected.ids.prefix(5)), cache: cache, logits: .none)
        let suffix = Array(expected.ids.dropFirst(5))
        let full = try exactModel.forward(suffix, cache: cache, logits: .last)
        cache.truncate(to: 5)
        let selected = try exactModel.forward(suffix, cache: cache, logitsOf: [1, 2])
        #expect(abs(selected[0] - full[1]) < 1e-5 && abs(selected[1] - full[2]) < 1e-5)
        #expect(throws: GemmaError.self) { try exactModel.forward([1], cache: cache, logitsOf: [exactModel.config.vocabularySize]) }
        #expect(throws: GemmaError.self) { try exactModel.forward([1], cache: cache, logitsOf: []) }
    }
}
