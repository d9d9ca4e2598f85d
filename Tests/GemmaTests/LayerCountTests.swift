import Foundation
import Gemma
import ModelFormats
import TensorKit
import TestSupport
import Testing

/// Hostile headers and values (issue 20): a header claiming more layers than the checkpoint's
/// tensors can hold (item 3) is an error naming the key, found before anything is allocated per
/// layer, in both formats; a non-finite norm, RoPE base or epsilon (item 1) is refused by name.
@Suite struct LayerCountTests {
    static let pool = try! ComputePool(threads: 1)

    /// A GGUF with a complete one-layer Gemma 3 model whose header claims `blocks` layers.
    static func gguf(blocks: UInt32, metadata: [String: GGUFValue] = [:], norm: Float = 0.5) throws -> String {
        let path = NSTemporaryDirectory() + "layers-\(UUID().uuidString).gguf"
        let hidden = 8, heads = 2, headDim = 4, ff = 16, vocab = 4
        var w = GGUFWriter()
        try w.setMetadata("general.architecture", .string("gemma3"))
        try w.setMetadata("gemma3.embedding_length", .uint32(UInt32(hidden)))
        try w.setMetadata("gemma3.block_count", .uint32(blocks))
        try w.setMetadata("gemma3.feed_forward_length", .uint32(UInt32(ff)))
        try w.setMetadata("gemma3.attention.head_count", .uint32(UInt32(heads)))
        try w.setMetadata("gemma3.attention.key_length", .uint32(UInt32(headDim)))
        try w.setMetadata("gemma3.attention.sliding_window", .uint32(4))
        for (key, value) in metadata { try w.setMetadata(key, value) }
        func add(_ name: String, _ shape: [Int]) throws {
            try w.addTensor(name: name, shape: shape, floats: [Float](repeating: 0.5, count: shape.reduce(1, *)))
        }
        try add("token_embd.weight", [hidden, vocab])
        try w.addTensor(name: "output_norm.weight", shape: [hidden],
                        floats: (0..<hidden).map { $0 == 3 ? norm : 0.5 })
        for role in ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"] { try add("blk.0.\(role).weight", [hidden]) }
        for role in ["attn_q_norm", "attn_k_norm"] { try add("blk.0.\(role).weight", [headDim]) }
        for role in ["attn_q", "attn_k", "attn_v"] { try add("blk.0.\(role).weight", [hidden, heads * headDim]) }
        try add("blk.0.attn_output.weight", [heads * headDim, hidden])
        try add("blk.0.ffn_gate.weight", [hidden, ff])
        try add("blk.0.ffn_up.weight", [hidden, ff])
        try add("blk.0.ffn_down.weight", [ff, hidden])
        try w.write(to: path)
        return path
    }

    @Test func theOneLayerFileLoads() throws {
        let path = try Self.gguf(blocks: 1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ModelLoader.loadModel(path: path, pool: Self.pool).config.layerCount == 1)
    }

    @Test(arguments: [UInt32.max, 100_000_000, 2])
    func aGGUFBlockCountBeyondItsTensorsIsRefused(_ blocks: UInt32) throws {
        let path = try Self.gguf(blocks: blocks)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ModelLoader.loadModel(path: path, pool: Self.pool)
            Issue.record("a file claiming \(blocks) layers loaded")
        } catch let error as GemmaError {
            let message = "\(error)"
            #expect(message.contains("'gemma3.block_count' says \(blocks) layers, but the checkpoint has only 15 tensors"), "\(message)")
        }
    }

    @Test func aConfigJSONLayerCountBeyondItsTensorsIsRefused() throws {
        let fixture = SharedFixtures.path("tiny-gemma3")
        let dir = NSTemporaryDirectory() + "layers-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: fixture, toPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configPath = dir + "/config.json"
        var text = try String(contentsOfFile: configPath, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #""num_hidden_layers":\s*\d+"#)
        let range = NSRange(text.startIndex..., in: text)
        #expect(pattern.numberOfMatches(in: text, range: range) == 1)
        text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "\"num_hidden_layers\": 1099511627776")
        text = text.replacingOccurrences(of: #""layer_types""#, with: #""unused_layer_types""#)
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        do {
            _ = try ModelLoader.loadModel(path: dir, pool: Self.pool)
            Issue.record("a config.json claiming 2^40 layers loaded")
        } catch let error as GemmaError {
            #expect("\(error)".contains("num_hidden_layers") && "\(error)".contains("1099511627776"), "\(error)")
        }
    }

    /// Loads `path` (then removes it), expecting a GemmaError whose text contains `fragment`.
    static func expectRefused(_ path: String, _ fragment: String) {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ModelLoader.loadModel(path: path, pool: pool)
            Issue.record("\(path) loaded (expected '\(fragment)')")
        } catch {
            #expect(error is GemmaError && "\(error)".contains(fragment), "\(error)")
        }
    }

    @Test(arguments: [("gemma3.rope.freq_base", Float.infinity, "rope base"),
                      ("gemma3.attention.layer_norm_rms_epsilon", Float.nan, "rms_norm_eps"),
                      ("gemma3.attention.layer_norm_rms_epsilon", Float.infinity, "rms_norm_eps")])
    func nonFiniteHyperparametersAreRefused(_ key: String, _ value: Float, _ name: String) throws {
        Self.expectRefused(try Self.gguf(blocks: 1, metadata: [key: .float32(value)]), "\(name) must be a positive finite number")
    }

    @Test func aNonFiniteNormIsRefusedByName() throws {
        Self.expectRefused(try Self.gguf(blocks: 1, norm: .nan), "tensor 'output_norm.weight' holds 1 non-finite values")
    }
}
