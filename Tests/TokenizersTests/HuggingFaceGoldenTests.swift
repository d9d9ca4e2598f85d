import Foundation
import JSON
import Testing
@testable import Tokenizers

/// Tokenizers built by Hugging Face `tokenizers` itself (scripts/golden-tokenizer.py) with Gemma's
/// and Llama's pipelines; every case's ids and decoded texts come from the library.
@Suite struct HuggingFaceGoldenTests {
    struct Case {
        var text: String
        var ids: [Int]
        var idsWithoutSpecialParsing: [Int]
        var decoded: String
        var decodedWithSpecial: String
    }

    static func fixture(_ name: String, _ ext: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: ext))
    }

    static func load(_ style: String) throws -> (HuggingFaceTokenizer, [Case]) {
        let tokenizer = try HuggingFaceTokenizer(path: try fixture("tiny-\(style)-tokenizer", "json").path)
        let lines = try String(contentsOf: try fixture("tiny-\(style)-expected", "jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let cases = try lines.map { line -> Case in
            let record = JSONField(value: try JSONParser.parse(bytes: Array(line.utf8)), path: "")
            return Case(text: try record.required("text").string(),
                        ids: try record.required("ids").array().map { try $0.int() },
                        idsWithoutSpecialParsing: try record.required("ids_no_special_parsing").array().map { try $0.int() },
                        decoded: try record.required("decoded").string(),
                        decodedWithSpecial: try record.required("decoded_with_special").string())
        }
        return (tokenizer, cases)
    }

    @Test(arguments: ["gemma", "llama", "metaspace"])
    func matchesTheReferenceLibrary(style: String) throws {
        let (tokenizer, cases) = try Self.load(style)
        #expect(cases.count >= 10)
        for c in cases {
            #expect(tokenizer.encode(c.text, addBOS: false, parseSpecial: true) == c.ids, "\(style): \(c.text)")
            #expect(tokenizer.encode(c.text, addBOS: false, parseSpecial: false) == c.idsWithoutSpecialParsing,
                    "\(style), specials not parsed: \(c.text)")
            #expect(tokenizer.decode(c.ids, skipSpecial: true) == c.decoded, "\(style): \(c.text)")
            #expect(tokenizer.decode(c.ids, skipSpecial: false) == c.decodedWithSpecial, "\(style): \(c.text)")
        }
    }

    @Test(arguments: ["gemma", "llama", "metaspace"])
    func streamingEqualsDecodingAtOnce(style: String) throws {
        let (tokenizer, cases) = try Self.load(style)
        for c in cases {
            var decoder = tokenizer.makeStreamingDecoder()
            let streamed = c.ids.map { decoder.feed($0) }.joined() + decoder.finish()
            #expect(streamed == c.decoded, "\(style): \(c.text)")
        }
    }

    @Test func specialTokensAndBOS() throws {
        let (tokenizer, _) = try Self.load("gemma")
        #expect(tokenizer.bosID == 2 && tokenizer.eosID == 1 && tokenizer.padID == 0)
        #expect(tokenizer.isSpecial(4) && !tokenizer.isSpecial(tokenizer.id(of: "\n\n")!))
        #expect(tokenizer.encode("the", addBOS: true, parseSpecial: true).first == 2)
        #expect(tokenizer.tokenToBytes(tokenizer.id(of: "<0xF0>")!) == [0xF0])
        #expect(tokenizer.vocabularySize == 256 + 150 + 1)
    }
}
