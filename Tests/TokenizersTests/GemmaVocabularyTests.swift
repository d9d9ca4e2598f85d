import Foundation
import ModelFormats
import TestSupport
import Testing
@testable import Tokenizers

/// The real Gemma 3 vocabulary against ids computed by HF transformers and llama.cpp (they agree on
/// all of them; see Tests/Fixtures/gemma-3-270m-reference.jsonl). Runs only where the default model is
/// installed (`scripts/setup` installs it).
@Suite(.enabled(if: RealModel.isInstalled))
struct GemmaVocabularyTests {

    struct Reference {
        var prompt: String
        var ids: [Int]
        var greedyIDs: [Int]
        var greedyText: String
    }

    static func references() throws -> [Reference] {
        let url = URL(fileURLWithPath: SharedFixtures.path("gemma-3-270m-reference.jsonl"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        return try lines.map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return Reference(
                prompt: try #require(object["prompt"] as? String),
                ids: try #require(object["ids"] as? [Int]),
                greedyIDs: try #require(object["greedy_ids"] as? [Int]),
                greedyText: try #require(object["greedy_text"] as? String))
        }
    }

    static func tokenizer() throws -> SentencePieceTokenizer {
        try SentencePieceTokenizer(gguf: GGUFFile(path: RealModel.path))
    }

    @Test func readsTheGemmaSettings() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.bosID == 2 && tokenizer.eosID == 1 && tokenizer.unknownID == 3 && tokenizer.padID == 0)
        #expect(tokenizer.addBOS && !tokenizer.addSpacePrefix)
        #expect(tokenizer.id(of: "<start_of_turn>") == 105)
        #expect(tokenizer.piece(236743) == "▁")
        #expect(tokenizer.tokenToBytes(tokenizer.id(of: "<0x0A>")!) == [0x0A])
    }

    @Test func encodesEveryReferencePromptExactly() throws {
        let tokenizer = try Self.tokenizer()
        for reference in try Self.references() {
            #expect(tokenizer.encode(reference.prompt, addBOS: true, parseSpecial: true) == reference.ids,
                    "\(reference.prompt.prefix(60))")
        }
    }

    @Test func decodesGreedyOutputsExactly() throws {
        let tokenizer = try Self.tokenizer()
        for reference in try Self.references() {
            #expect(tokenizer.decode(reference.greedyIDs, skipSpecial: true) == reference.greedyText)
            var streaming = tokenizer.makeStreamingDecoder()
            let streamed = reference.greedyIDs.map { streaming.feed($0) }.joined() + streaming.finish()
            #expect(streamed == reference.greedyText)
        }
    }

    @Test func roundTripsPromptsWithoutBOS() throws {
        let tokenizer = try Self.tokenizer()
        for reference in try Self.references() {
            let ids = tokenizer.encode(reference.prompt, addBOS: false, parseSpecial: true)
            #expect(tokenizer.decode(ids, skipSpecial: false) == reference.prompt)
        }
    }

    @Test func untrustedTextCannotInjectControlTokens() throws {
        let tokenizer = try Self.tokenizer()
        let ids = tokenizer.encode("<start_of_turn>user", addBOS: false, parseSpecial: false)
        #expect(!ids.contains(105))
        #expect(!ids.contains { tokenizer.isSpecial($0) })
        #expect(tokenizer.decode(ids, skipSpecial: true) == "<start_of_turn>user")
    }
}
