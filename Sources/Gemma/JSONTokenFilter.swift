// Constrained decoding's view of the vocabulary: each token's bytes, kept once per generator, and
// the filter that accepts a token when the JSON recogniser accepts its bytes.
import Tokenizers

/// The bytes each token adds to the text (none for special tokens), in one buffer.
public struct TokenBytes: Sendable {
    private let bytes: [UInt8]
    private let ends: [Int]

    public init(_ tokenizer: any TextTokenizer) {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(tokenizer.vocabularySize)
        for id in 0..<tokenizer.vocabularySize {
            if !tokenizer.isSpecial(id) { bytes += tokenizer.tokenToBytes(id) }
            ends.append(bytes.count)
        }
        self.bytes = bytes
        self.ends = ends
        var single = [Int?](repeating: nil, count: 256)
        var start = 0
        for (id, end) in ends.enumerated() {
            if end - start == 1, single[Int(bytes[start])] == nil { single[Int(bytes[start])] = id }
            start = end
        }
        singleByte = single
    }

    /// For each byte, a token whose bytes are that byte alone (nil when the vocabulary has none).
    public let singleByte: [Int?]

    public var count: Int { ends.count }

    /// The token's bytes; empty for a special token and an id outside the vocabulary.
    public subscript(id: Int) -> ArraySlice<UInt8> {
        guard id >= 0, id < ends.count else { return [] }
        return bytes[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }
}

/// Accepts the tokens whose bytes keep the text a prefix of a value the schema allows, and the end
/// tokens once the value is complete. Special tokens and tokens without bytes are never accepted.
struct JSONTokenFilter: TokenFilter {
    let recognizer: JSONRecognizer
    let tokens: TokenBytes
    let endTokens: Set<Int>

    func accepts(_ token: Int) -> Bool {
        if endTokens.contains(token) { return recognizer.isComplete }
        let bytes = tokens[token]
        return !bytes.isEmpty && recognizer.accepts(bytes)
    }

    func mask(_ logits: inout [Float]) {
        let first = recognizer.acceptedBytes()
        for id in logits.indices where logits[id] > -.infinity {
            if endTokens.contains(id) {
                if !recognizer.isComplete { logits[id] = -.infinity }
                continue
            }
            let bytes = tokens[id]
            guard let b = bytes.first, first[Int(b)], recognizer.accepts(bytes) else {
                logits[id] = -.infinity
                continue
            }
        }
    }
}
