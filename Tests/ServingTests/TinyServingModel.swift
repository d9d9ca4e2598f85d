import Foundation
import Gemma
import ModelFormats
import TensorKit
import TestSupport

/// A tiny Gemma 3 GGUF with a SentencePiece vocabulary (special tokens, byte fallback, letters and
/// a few words) and seeded random weights, written once per test run: the server tests run on it
/// without the real model. Special-token and byte rows of the (tied) embedding are zero, so greedy
/// decoding never ends early on EOS and always produces letters.
enum TinyServingModel {
    private static let written = Result<String, Error> {
        let path = NSTemporaryDirectory() + "serving-tiny-\(getpid()).gguf"
        try write(to: path)
        removeAtExit(path)
        return path
    }

    static func path() throws -> String { try written.get() }

    static let pool: ComputePool? = try? ComputePool(threads: 2)

    /// `declaredLayers` (when set) is the block count the header claims; the tensors stay four layers'.
    /// `contextLength` is the context the header declares (8192 unless given).
    /// `endOfTurnLike` (a piece) gives <end_of_turn> that piece's embedding row a little scaled up, so
    /// that greedy decoding ends where it would have written the piece (with a positive logit).
    static func write(to path: String, declaredLayers: UInt32? = nil, contextLength: UInt32 = 8192,
                      endOfTurnLike: String? = nil) throws {
        let hidden = 128, heads = 4, kvHeads = 2, headDim = 32, ff = 512, layers = 4
        var tokens = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
        var types: [Int32] = [3, 3, 3, 2, 4, 4]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            types.append(6)
        }
        let special = tokens.count
        let pieces = ["▁"] + (97...122).map { String(UnicodeScalar($0)) }
            + ["▁the", "▁a", "▁is", "▁of", "▁cat", "▁say", "▁hi", "▁model", "▁user", "er", "in", "on", "at"]
        tokens += pieces
        types += Array(repeating: 1, count: pieces.count)
        let scores: [Float] = tokens.enumerated().map { i, t in i < special ? 0 : -Float(t.count) }
        let vocab = tokens.count

        var w = GGUFWriter()
        try w.setMetadata("general.architecture", .string("gemma3"))
        try w.setMetadata("gemma3.context_length", .uint32(contextLength))
        try w.setMetadata("gemma3.embedding_length", .uint32(UInt32(hidden)))
        try w.setMetadata("gemma3.block_count", .uint32(declaredLayers ?? UInt32(layers)))
        try w.setMetadata("gemma3.feed_forward_length", .uint32(UInt32(ff)))
        try w.setMetadata("gemma3.attention.head_count", .uint32(UInt32(heads)))
        try w.setMetadata("gemma3.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        try w.setMetadata("gemma3.attention.key_length", .uint32(UInt32(headDim)))
        try w.setMetadata("gemma3.attention.value_length", .uint32(UInt32(headDim)))
        try w.setMetadata("gemma3.attention.sliding_window", .uint32(64))
        try w.setMetadata("gemma3.rope.freq_base", .float32(1_000_000))
        try w.setMetadata("tokenizer.ggml.model", .string("llama"))
        try w.setMetadata("tokenizer.ggml.tokens", .array(tokens.map(GGUFValue.string)))
        try w.setMetadata("tokenizer.ggml.scores", .array(scores.map(GGUFValue.float32)))
        try w.setMetadata("tokenizer.ggml.token_type", .array(types.map(GGUFValue.int32)))
        try w.setMetadata("tokenizer.ggml.bos_token_id", .uint32(2))
        try w.setMetadata("tokenizer.ggml.eos_token_id", .uint32(1))
        try w.setMetadata("tokenizer.ggml.unknown_token_id", .uint32(3))
        try w.setMetadata("tokenizer.ggml.padding_token_id", .uint32(0))
        try w.setMetadata("tokenizer.ggml.eot_token_id", .uint32(5))

        var rng = SeededGenerator(seed: 42)
        func random(_ count: Int, scale: Float) -> [Float] {
            (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
        }
        var embedding = random(vocab * hidden, scale: 1)
        for i in 0..<(special * hidden) { embedding[i] = 0 }
        if let piece = endOfTurnLike, let row = tokens.firstIndex(of: piece) {
            for j in 0..<hidden { embedding[5 * hidden + j] = 1.05 * embedding[row * hidden + j] }
        }
        try w.addTensor(name: "token_embd.weight", shape: [hidden, vocab], floats: embedding)
        try w.addTensor(name: "output_norm.weight", shape: [hidden], floats: random(hidden, scale: 0.1))
        let a = 1 / Float(hidden).squareRoot(), f = 1 / Float(ff).squareRoot()
        for l in 0..<layers {
            func add(_ role: String, _ shape: [Int], scale: Float) throws {
                try w.addTensor(name: "blk.\(l).\(role).weight", shape: shape, floats: random(shape.reduce(1, *), scale: scale))
            }
            try add("attn_norm", [hidden], scale: 0.1)
            try add("attn_q", [hidden, heads * headDim], scale: a)
            try add("attn_k", [hidden, kvHeads * headDim], scale: a)
            try add("attn_v", [hidden, kvHeads * headDim], scale: a)
            try add("attn_output", [heads * headDim, hidden], scale: a)
            try add("attn_q_norm", [headDim], scale: 0.1)
            try add("attn_k_norm", [headDim], scale: 0.1)
            try add("post_attention_norm", [hidden], scale: 0.1)
            try add("ffn_norm", [hidden], scale: 0.1)
            try add("post_ffw_norm", [hidden], scale: 0.1)
            try add("ffn_gate", [hidden, ff], scale: a)
            try add("ffn_up", [hidden, ff], scale: a)
            try add("ffn_down", [ff, hidden], scale: f)
        }
        try w.write(to: path)
    }

    static func load() throws -> LoadedModel { try load(path: try path()) }

    /// Loads a tiny model written elsewhere (`write(to:)`), on the shared pool.
    static func load(path: String) throws -> LoadedModel {
        guard let pool else { throw TestFailure("cannot start a compute pool") }
        return try ModelLoader.load(path: path, pool: pool)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
