// Follows llama.cpp's SentencePiece ("llama" vocabulary type) tokenizer, as docs/sentencepiece.md
// describes it: special-token partition, whitespace escaping, score-ordered merging with byte
// fallback, and its detokenizer.

/// A SentencePiece BPE tokenizer built from the vocabulary arrays a GGUF file stores
/// (`tokenizer.ggml.tokens`, `.scores`, `.token_type`), as used by Gemma.
public struct SentencePieceTokenizer: TextTokenizer {
    /// SentencePiece piece types, as stored in `tokenizer.ggml.token_type`.
    public enum TokenType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let vocabularySize: Int
    public let bosID: Int
    public let eosID: Int
    public let unknownID: Int
    public let padID: Int?
    /// Whether `encode(_:)` (the convenience form) prepends BOS, from `tokenizer.ggml.add_bos_token`.
    public let addBOS: Bool
    /// Whether a space is put in front of the text (SentencePiece's "dummy prefix"); Gemma: no.
    public let addSpacePrefix: Bool

    let table: PieceTable
    let scores: [Float]
    let types: [TokenType]
    let byteTokens: ByteTokens
    let specials: SpecialTokenSplitter

    /// Builds the tokenizer. `types` uses the GGUF codes (1 normal … 6 byte); unknown codes count as
    /// normal. Throws if the arrays disagree in length or a special id is out of range.
    public init(tokens: [String], scores: [Float], types: [Int32], bosID: Int, eosID: Int,
                unknownID: Int, padID: Int?, addBOS: Bool, addSpacePrefix: Bool) throws {
        guard !tokens.isEmpty else {
            throw TokenizerError.invalidValue(field: "tokenizer.ggml.tokens", message: "the vocabulary is empty")
        }
        guard scores.count == tokens.count else {
            throw TokenizerError.invalidValue(
                field: "tokenizer.ggml.scores",
                message: "has \(scores.count) entries for \(tokens.count) tokens")
        }
        guard types.count == tokens.count else {
            throw TokenizerError.invalidValue(
                field: "tokenizer.ggml.token_type",
                message: "has \(types.count) entries for \(tokens.count) tokens")
        }
        for (field, id) in [("tokenizer.ggml.bos_token_id", bosID), ("tokenizer.ggml.eos_token_id", eosID),
                            ("tokenizer.ggml.unknown_token_id", unknownID),
                            ("tokenizer.ggml.padding_token_id", padID ?? 0)]
        where id < 0 || id >= tokens.count {
            throw TokenizerError.invalidValue(field: field, message: "id \(id) is outside the vocabulary of \(tokens.count)")
        }
        vocabularySize = tokens.count
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.padID = padID
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix
        self.scores = scores
        let types = types.map { TokenType(rawValue: $0) ?? .normal }
        self.types = types
        table = PieceTable(pieces: tokens, estimatedCount: tokens.count)
        byteTokens = ByteTokens(table: table)
        // llama.cpp's special-token cache: control, user-defined and unknown pieces.
        var specialEntries: [(text: [UInt8], id: Int)] = []
        for (id, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            specialEntries.append((Array(table.bytes(id)), id))
        }
        specials = SpecialTokenSplitter(tokens: specialEntries, rule: .longestTokenFirst)
    }

    public func type(of id: Int) -> TokenType? {
        id >= 0 && id < vocabularySize ? types[id] : nil
    }

    public func piece(_ id: Int) -> String? {
        id >= 0 && id < vocabularySize ? table.string(id) : nil
    }

    public func id(of piece: String) -> Int? { table.lookup(piece) }

    public func score(_ id: Int) -> Float? {
        id >= 0 && id < vocabularySize ? scores[id] : nil
    }

    /// Control, unknown and unused pieces: never produced from plain text, left out when decoding
    /// with `skipSpecial`. User-defined pieces (Gemma's `\n`, runs of spaces) are ordinary text.
    public func isSpecial(_ id: Int) -> Bool {
        switch type(of: id) {
        case .control, .unknown, .unused: return true
        default: return false
        }
    }

    public func tokenToBytes(_ id: Int) -> [UInt8] {
        guard let type = type(of: id) else { return [] }
        switch type {
        case .byte:
            if let byte = byteTokens.byte(ofToken: id) { return [byte] }
            return Array(table.bytes(id))
        case .normal:
            return Self.unescapeWhitespace(table.bytes(id))
        case .control, .unknown, .unused, .userDefined:
            return Array(table.bytes(id))
        }
    }

    public func decode(_ ids: [Int], skipSpecial: Bool) -> String {
        var decoder = makeStreamingDecoder(skipSpecial: skipSpecial)
        for id in ids { _ = decoder.feed(id) }
        _ = decoder.finish()
        return decoder.text
    }

    public func makeStreamingDecoder() -> StreamingDecoder { makeStreamingDecoder(skipSpecial: true) }

    public func makeStreamingDecoder(skipSpecial: Bool) -> StreamingDecoder {
        let tokenizer = self
        return StreamingDecoder(
            leadingSpacesToStrip: addSpacePrefix ? 1 : 0,
            bytes: { id in
                skipSpecial && tokenizer.isSpecial(id) ? [] : tokenizer.tokenToBytes(id)
            })
    }

    /// U+2581 (UTF-8 E2 96 81) back to a space.
    static func unescapeWhitespace<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var it = Array(bytes)[...]
        while let b = it.first {
            if b == 0xE2, it.count >= 3, it[it.startIndex + 1] == 0x96, it[it.startIndex + 2] == 0x81 {
                out.append(0x20)
                it = it.dropFirst(3)
            } else {
                out.append(b)
                it = it.dropFirst()
            }
        }
        return out
    }
}
