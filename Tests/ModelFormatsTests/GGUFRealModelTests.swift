import Foundation
import Testing
import TensorKit
@testable import ModelFormats
import TestSupport

/// The default model, where installed (TestSupport.RealModel). Expected values were cross-checked against the `gguf`
/// Python package's `GGUFReader` on the same file.
extension RealModel {
    /// Installed (the real-model tests are skipped with a note on stderr otherwise).
    static var isPresent: Bool {
        if !isInstalled { FileHandle.standardError.write(Data("skipping real-model tests: \(path) not found\n".utf8)) }
        return isInstalled
    }
}

@Suite(.enabled(if: RealModel.isPresent, "the default model is not installed"))
struct GGUFRealModelTests {
    @Test func readsGemma3Header() throws {
        let file = try GGUFFile(path: RealModel.path)
        #expect(file.version == 3)
        #expect(file.architecture == "gemma3")
        #expect(try file.metadataInt("gemma3.block_count") == 18)
        #expect(try file.metadataInt("gemma3.embedding_length") == 640)
        #expect(try file.metadataInt("gemma3.attention.head_count_kv") == 1)
        #expect(try file.metadataDouble("gemma3.rope.freq_base") == 1_000_000)
        #expect(try file.metadataString("tokenizer.ggml.model") == "llama")
        #expect(try file.metadataInt("tokenizer.ggml.bos_token_id") == 2)
        #expect(try file.metadataBool("tokenizer.ggml.add_bos_token") == true)
        #expect(file.metadataKeys.count == 33)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.alignment == 32)
        #expect(file.dataOffset == 6_525_120)
    }

    @Test func readsVocabulary() throws {
        let file = try GGUFFile(path: RealModel.path)
        let tokens = try #require(file.metadata["tokenizer.ggml.tokens"]?.strings)
        #expect(tokens.count == 262_144)
        #expect(tokens[2] == "<bos>")
        #expect(tokens[106] == "<end_of_turn>")
        #expect(file.metadata["tokenizer.ggml.scores"]?.floats?.count == 262_144)
        #expect(file.metadata["tokenizer.ggml.token_type"]?.ints?.count == 262_144)
    }

    @Test func readsTensorInfos() throws {
        let file = try GGUFFile(path: RealModel.path)
        #expect(file.tensors.count == 236)
        #expect(file.tensors.first?.name == "output_norm.weight")
        let embd = try file.tensorInfo("token_embd.weight")
        #expect(embd.type == .q8_0)
        #expect(embd.shape == [640, 262_144])
        #expect(embd.cols == 640 && embd.rows == 262_144)
        #expect(embd.offset == 6_527_680)
        #expect(embd.byteCount == 178_257_920)
        let k = try file.rawTensor("blk.0.attn_k.weight")
        #expect(k.type == .q5_0 && k.shape == [256, 640] && k.byteCount == 112_640)
        let last = try #require(file.tensors.last)
        #expect(last.name == "blk.17.post_ffw_norm.weight")
        #expect(last.offset + last.byteCount == file.fileSize)
        var counts = [GGMLType: Int]()
        for t in file.tensors { counts[t.type, default: 0] += 1 }
        #expect(counts == [.f32: 109, .q5_0: 81, .q4_K: 27, .q8_0: 10, .q6_K: 9])
        // Norm weights are plain f32 and stored as (1 + w) by the converter: all finite.
        let norm = try file.tensorData("output_norm.weight").assumingMemoryBound(to: Float.self)
        #expect((0..<640).allSatisfy { norm[$0].isFinite })
    }
}
