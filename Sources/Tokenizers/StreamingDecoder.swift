/// Turns token ids arriving one at a time (during generation) into text as soon as it is complete.
///
/// A character outside the vocabulary is generated as several byte tokens (`<0xF0><0x9F><0x8E><0x89>`
/// for 🎉); emitting each token's text on its own would print U+FFFD halves. This decoder keeps the
/// bytes of an unfinished UTF-8 sequence until it completes, and turns bytes into U+FFFD only once they
/// can no longer become a valid character (following Unicode's "maximal subpart" rule, the same as
/// `String(decoding:as:)`, so the streamed text equals the text decoded at once).
///
/// It also records offsets for stop strings: `tokenTextEnds[i]` is how many UTF-8 bytes of `text`
/// had been emitted after token i, so a stop string found at byte offset k of `text` lies after
/// every token whose end is ≤ k.
public struct StreamingDecoder: Sendable {
    private let bytesOf: @Sendable (Int) -> [UInt8]
    private var leadingSpacesToStrip: Int
    private var pending: [UInt8] = []

    /// All text emitted so far.
    public private(set) var text: String = ""
    /// Unicode scalars emitted so far (what a character offset means to JSON clients).
    public private(set) var scalarCount = 0
    /// For each token fed, the UTF-8 length of `text` after that token.
    public private(set) var tokenTextEnds: [Int] = []

    /// `bytes` gives each token's bytes (empty for a token that shows nothing);
    /// `leadingSpacesToStrip` removes the dummy-prefix space tokenizers with one put at the start.
    public init(leadingSpacesToStrip: Int = 0, bytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.bytesOf = bytes
        self.leadingSpacesToStrip = leadingSpacesToStrip
    }

    /// UTF-8 length of `text`.
    public var utf8Count: Int { text.utf8.count }

    /// Bytes held back because they may still become a character.
    public var pendingByteCount: Int { pending.count }

    /// Feeds one token; returns the text that became complete (possibly empty).
    public mutating func feed(_ id: Int) -> String {
        var bytes = bytesOf(id)[...]
        while leadingSpacesToStrip > 0, bytes.first == 0x20, text.isEmpty, pending.isEmpty {
            bytes = bytes.dropFirst()
            leadingSpacesToStrip -= 1
        }
        if !bytes.isEmpty { leadingSpacesToStrip = 0 }
        pending.append(contentsOf: bytes)
        let emitted = drain(final: false)
        tokenTextEnds.append(text.utf8.count)
        return emitted
    }

    /// Ends the stream: bytes still held (an unfinished character) become U+FFFD.
    public mutating func finish() -> String {
        let emitted = drain(final: true)
        if !tokenTextEnds.isEmpty { tokenTextEnds[tokenTextEnds.count - 1] = text.utf8.count }
        return emitted
    }

    private mutating func drain(final: Bool) -> String {
        let complete = Self.completeLength(pending, final: final)
        guard complete > 0 else { return "" }
        let out = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        text += out
        scalarCount += out.unicodeScalars.count
        return out
    }

    /// How many leading bytes of `bytes` can be decoded now: everything except a trailing sequence
    /// that is a valid but unfinished UTF-8 prefix (unless `final`).
    static func completeLength(_ bytes: [UInt8], final: Bool) -> Int {
        if final { return bytes.count }
        var i = 0
        while i < bytes.count {
            let need = sequenceLength(bytes[i])
            if need <= 1 { i += 1; continue }  // ASCII, or a byte that is invalid on its own
            var k = 1
            while k < need, i + k < bytes.count, continuationValid(lead: bytes[i], index: k, byte: bytes[i + k]) {
                k += 1
            }
            if k == need { i += need; continue }  // complete character
            if i + k == bytes.count { return i }  // valid so far, waiting for more
            i += k  // invalid: these bytes become U+FFFD now
        }
        return bytes.count
    }

    /// Length a lead byte announces, or 1 for ASCII and bytes that cannot start a sequence.
    public static func sequenceLength(_ b: UInt8) -> Int {
        switch b {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }

    /// Whether `byte` may follow at position `index` of a sequence led by `lead` (Unicode Table 3-7:
    /// excludes overlong forms, surrogates, and code points above U+10FFFF).
    public static func continuationValid(lead: UInt8, index: Int, byte: UInt8) -> Bool {
        if index == 1 {
            switch lead {
            case 0xE0: return (0xA0...0xBF).contains(byte)
            case 0xED: return (0x80...0x9F).contains(byte)
            case 0xF0: return (0x90...0xBF).contains(byte)
            case 0xF4: return (0x80...0x8F).contains(byte)
            default: return (0x80...0xBF).contains(byte)
            }
        }
        return (0x80...0xBF).contains(byte)
    }
}
