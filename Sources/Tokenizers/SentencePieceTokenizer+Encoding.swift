// Follows llama.cpp's `llama_vocab::impl::tokenize` for SPM vocabularies and `llm_tokenizer_spm_session`.

extension SentencePieceTokenizer {
    public func encode(_ text: String, addBOS: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        if addBOS { output.append(bosID) }
        // User-defined pieces are always split out (they are text, like `\n`); control and unknown
        // pieces only when special tokens are parsed, so untrusted text cannot inject them.
        let fragments = specials.split(bytes) { id in parseSpecial || types[id] == .userDefined }
        var previousWasSpecial = true
        for fragment in fragments {
            switch fragment {
            case let .token(id):
                output.append(id)
                previousWasSpecial = true
            case let .text(range):
                var piece: [UInt8] = addSpacePrefix && previousWasSpecial ? [0x20] : []
                piece.append(contentsOf: bytes[range])
                encodeEscaped(Self.escapeWhitespace(piece), into: &output)
                previousWasSpecial = false
            }
        }
        return output
    }

    /// ' ' → U+2581, as SentencePiece's whitespace escaping.
    static func escapeWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 2)
        for b in bytes {
            if b == 0x20 { out.append(contentsOf: [0xE2, 0x96, 0x81]) } else { out.append(b) }
        }
        return out
    }

    /// Whether a merge may produce `id`. Only normal and user-defined pieces are formed from text, as
    /// in SentencePiece: a control piece (`<bos>`) or a byte piece (`<0x41>`) spelled out in untrusted
    /// text must stay text. (llama.cpp would merge into any piece; for the texts it is given with
    /// special parsing on, the difference never shows, as those pieces are split out beforehand.)
    @inline(__always)
    private func mergeable(_ id: Int) -> Bool {
        let type = types[id]
        return type == .normal || type == .userDefined
    }

    /// The score-ordered merge of one escaped text fragment (docs/sentencepiece.md, "Merging").
    func encodeEscaped(_ text: [UInt8], into output: inout [Int]) {
        guard !text.isEmpty else { return }
        text.withUnsafeBufferPointer { t in
            // Start from UTF-8 characters.
            var symbols: [SymbolMerger.Symbol] = []
            symbols.reserveCapacity(t.count)
            var offset = 0
            while offset < t.count {
                let length = min(Self.utf8Length(leadByte: t[offset]), t.count - offset)
                let id = table.lookup(UnsafeBufferPointer(rebasing: t[offset..<offset + length]))
                let index = symbols.count
                symbols.append(SymbolMerger.Symbol(
                    start: offset, end: offset + length, token: id.map { mergeable($0) ? $0 : -1 } ?? -1,
                    prev: index - 1, next: offset + length < t.count ? index + 1 : -1))
                offset += length
            }
            SymbolMerger.merge(&symbols) { left, right in
                guard let id = table.lookup(UnsafeBufferPointer(rebasing: t[left.start..<right.end])),
                      mergeable(id) else { return nil }
                return SymbolMerger.Candidate(priority: Double(scores[id]), token: id)
            }
            for symbol in SymbolMerger.survivors(symbols) {
                if symbol.token >= 0 {
                    output.append(symbol.token)
                } else {
                    // Byte fallback: a character that is no piece becomes its bytes' tokens.
                    for i in symbol.start..<symbol.end {
                        let id = byteTokens.ids[Int(t[i])]
                        output.append(id >= 0 ? id : unknownID)
                    }
                }
            }
        }
    }

    /// Length of a UTF-8 sequence from its first byte; a stray continuation byte counts as one.
    @inline(__always)
    static func utf8Length(leadByte b: UInt8) -> Int {
        switch b >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
