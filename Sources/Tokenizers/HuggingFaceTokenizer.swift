import Foundation
import JSON

// Follows Hugging Face tokenizers' `Tokenizer::encode` pipeline (added tokens, normalizer,
// pre-tokenizer, model) and `Tokenizer::decode`, for the components Gemma's tokenizer.json uses.

/// A tokenizer read from a Hugging Face `tokenizer.json` with a BPE model (google/gemma-2b,
/// gemma-3 and other SentencePiece-converted vocabularies with `byte_fallback`).
public struct HuggingFaceTokenizer: TextTokenizer {
    /// An entry of `added_tokens`: text matched before normalization (or after, if `normalized`).
    struct AddedToken: Sendable {
        var id: Int
        var content: String
        var special: Bool
        var normalized: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    public let vocabularySize: Int
    public let bosID: Int
    public let eosID: Int
    public let padID: Int?

    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let decoder: TokenDecoder?
    let addedTokens: [Int: AddedToken]
    /// Added tokens matched in the raw text (`normalized: false`) and in normalized text.
    let rawSplitter: SpecialTokenSplitter
    let normalizedSplitter: SpecialTokenSplitter

    /// Reads a tokenizer.json file. BOS/EOS/padding are named by their pieces (they live in
    /// tokenizer_config.json, not here); Gemma's defaults are given.
    public init(path: String, bosToken: String = "<bos>", eosToken: String = "<eos>", padToken: String? = "<pad>") throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadable(path: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(json: data, source: path, bosToken: bosToken, eosToken: eosToken, padToken: padToken)
    }

    /// Parses tokenizer.json content; `source` names it in syntax errors.
    public init(json data: Data, source: String = "tokenizer.json", bosToken: String = "<bos>",
                eosToken: String = "<eos>", padToken: String? = "<pad>") throws {
        let root: JSONValue
        do { root = try JSONDocument.parse(data) } catch {
            throw TokenizerError.unreadable(path: source, message: error.message)
        }
        let json = JSONField(value: root, path: "")
        guard case .object = root else { throw TokenizerError.wrongType(field: "(root)", expected: "an object, found \(root.typeName)") }

        let model = try BPEModel(try json.required("model"))
        self.model = model
        normalizer = try json.optional("normalizer").map(Normalizer.init)
        preTokenizer = try json.optional("pre_tokenizer").map(PreTokenizer.init)
        decoder = try json.optional("decoder").map(TokenDecoder.init)

        var added: [Int: AddedToken] = [:]
        for field in try json.optional("added_tokens")?.array() ?? [] {
            let id = try field.required("id").int()
            guard id >= 0 else { throw TokenizerError.invalidValue(field: field.child("id"), message: "negative id \(id)") }
            if let singleWord = try field.optional("single_word"), try singleWord.bool() {
                throw TokenizerError.unsupportedComponent(field: singleWord.path, type: "added token with single_word: true")
            }
            let special = try field.optional("special")?.bool() ?? false
            added[id] = AddedToken(
                id: id, content: try field.required("content").string(), special: special,
                normalized: try field.optional("normalized")?.bool() ?? !special,
                lstrip: try field.optional("lstrip")?.bool() ?? false,
                rstrip: try field.optional("rstrip")?.bool() ?? false)
        }
        addedTokens = added
        rawSplitter = SpecialTokenSplitter(
            tokens: added.values.filter { !$0.normalized }.map { (Array($0.content.utf8), $0.id) }, rule: .leftmostLongest)
        normalizedSplitter = SpecialTokenSplitter(
            tokens: added.values.filter { $0.normalized }.map { (Array($0.content.utf8), $0.id) }, rule: .leftmostLongest)
        vocabularySize = max(model.count, (added.keys.max() ?? -1) + 1)

        func lookup(_ piece: String, _ role: String) throws -> Int {
            if let token = added.values.first(where: { $0.content == piece }) { return token.id }
            if let id = model.table.lookup(piece) { return id }
            throw TokenizerError.unknownPiece(field: role, piece: piece)
        }
        bosID = try lookup(bosToken, "bos_token")
        eosID = try lookup(eosToken, "eos_token")
        padID = try padToken.map { try lookup($0, "pad_token") }
    }

    public func piece(_ id: Int) -> String? {
        if let token = addedTokens[id] { return token.content }
        return id >= 0 && id < model.count ? model.table.string(id) : nil
    }

    public func id(of piece: String) -> Int? {
        if let token = addedTokens.values.first(where: { Array($0.content.utf8) == Array(piece.utf8) }) { return token.id }
        return piece.isEmpty ? nil : model.table.lookup(piece)
    }

    public func isSpecial(_ id: Int) -> Bool { addedTokens[id]?.special ?? false }

    public func encode(_ text: String, addBOS: Bool, parseSpecial: Bool) -> [Int] {
        var output: [Int] = addBOS ? [bosID] : []
        let allowed = { (id: Int) in parseSpecial || !(addedTokens[id]?.special ?? false) }
        let raw = Array(text.utf8)
        let fragments = stripAround(rawSplitter.split(raw, allowed: allowed), in: raw)
        for (index, fragment) in fragments.enumerated() {
            switch fragment {
            case let .token(id):
                output.append(id)
            case let .text(range):
                let piece = String(decoding: raw[range], as: UTF8.self)
                let normalized = Array((normalizer?.normalize(piece) ?? piece).utf8)
                let inner = stripAround(normalizedSplitter.split(normalized, allowed: allowed), in: normalized)
                for (innerIndex, part) in inner.enumerated() {
                    switch part {
                    case let .token(id):
                        output.append(id)
                    case let .text(innerRange):
                        let word = String(decoding: normalized[innerRange], as: UTF8.self)
                        let isFirst = index == 0 && innerIndex == 0 && range.lowerBound == 0
                        let words = preTokenizer?.split([word], isFirst: isFirst) ?? [word]
                        for word in words { model.tokenize(Array(word.utf8), into: &output) }
                    }
                }
            }
        }
        return output
    }

    /// Applies the added tokens' `lstrip`/`rstrip`: whitespace next to such a token is part of it.
    private func stripAround(_ fragments: [SpecialTokenSplitter.Fragment], in text: [UInt8]) -> [SpecialTokenSplitter.Fragment] {
        var result = fragments
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        for (i, fragment) in fragments.enumerated() {
            guard case let .token(id) = fragment, let token = addedTokens[id] else { continue }
            if token.lstrip, i > 0, case let .text(range) = result[i - 1] {
                var end = range.upperBound
                while end > range.lowerBound, isSpace(text[end - 1]) { end -= 1 }
                result[i - 1] = .text(range.lowerBound..<end)
            }
            if token.rstrip, i + 1 < result.count, case let .text(range) = result[i + 1] {
                var start = range.lowerBound
                while start < range.upperBound, isSpace(text[start]) { start += 1 }
                result[i + 1] = .text(start..<range.upperBound)
            }
        }
        return result.filter { if case let .text(range) = $0 { return !range.isEmpty } else { return true } }
    }

    public func decode(_ ids: [Int], skipSpecial: Bool) -> String {
        let tokens = ids.compactMap { id -> String? in
            skipSpecial && isSpecial(id) ? nil : piece(id)
        }
        return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }

    public func tokenToBytes(_ id: Int) -> [UInt8] {
        guard let piece = piece(id) else { return [] }
        return decoder?.bytes(of: piece) ?? Array(piece.utf8)
    }

    public func makeStreamingDecoder() -> StreamingDecoder { makeStreamingDecoder(skipSpecial: true) }

    public func makeStreamingDecoder(skipSpecial: Bool) -> StreamingDecoder {
        let tokenizer = self
        return StreamingDecoder(leadingSpacesToStrip: decoder?.leadingSpacesToStrip ?? 0) { id in
            skipSpecial && tokenizer.isSpecial(id) ? [] : tokenizer.tokenToBytes(id)
        }
    }
}
