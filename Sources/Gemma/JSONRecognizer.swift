// An incremental recogniser of JSON text matching a `JSONSchema`, byte by byte (UTF-8), for
// constrained decoding: it accepts exactly the byte strings that are prefixes of some value the
// schema allows (in the writing docs/structured-output.md describes: no whitespace after the
// value, between tokens one space or a newline and at most 20 spaces or tabs, numbers of at most
// 16 integer and 16 fraction
// digits, no \u escapes of surrogates). It is a value type: copy it to try a token.
import JSON
import Tokenizers

public struct JSONRecognizer: Sendable {
    /// Whitespace between tokens of the JSON text is one space, or a newline and at most this many
    /// spaces or tabs (llama.cpp's JSON grammar): a model that would pad forever cannot.
    static let maxIndent = 20
    static let maxDigits = 16
    static let maxExponentDigits = 3

    /// The parses still possible (several only while `anyOf` alternatives both fit the text).
    private var paths: [Path]

    public init(_ schema: JSONSchema) {
        paths = [Path(stack: [.value(schema.root)], whitespace: 0)]
    }

    /// Feeds `bytes`; false when the text is no longer a prefix of an allowed value (the state is
    /// then unusable: try tokens on a copy, `accepts`).
    @discardableResult
    public mutating func feed<C: Sequence>(_ bytes: C) -> Bool where C.Element == UInt8 {
        for b in bytes {
            var next: [Path] = []
            for p in paths { Self.advance(p, b, into: &next) }
            if next.isEmpty {
                paths = []
                return false
            }
            paths = next
        }
        return true
    }

    /// Whether the text so far followed by `bytes` is still a prefix of an allowed value.
    public func accepts<C: Sequence>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var copy = self
        return copy.feed(bytes)
    }

    /// The text so far is a whole allowed value: the generation may end here.
    public var isComplete: Bool { paths.contains(where: \.isComplete) }

    /// Some byte may still follow (false once the value is closed: only the end may come).
    public var canContinue: Bool { paths.contains { !$0.stack.isEmpty } }

    /// The bytes that may come next.
    public func acceptedBytes() -> [Bool] {
        (0...255).map { accepts(CollectionOfOne(UInt8($0))) }
    }

    /// A short text that closes the value from here: what is left of an open string, number or
    /// literal, the members an open object still requires and the items an open array still needs
    /// (each the shortest value its schema allows), then the closing brackets. Empty when the text
    /// is already a whole value; nil when none is found (a schema that refers to itself too deeply).
    /// Checked against the recogniser before it is returned, so a text returned is always accepted
    /// and complete. Constrained decoding closes a value with it when `max_tokens` would cut it.
    public func completion() -> [UInt8]? {
        if isComplete { return [] }
        var best: [UInt8]?
        for p in paths {
            guard let text = Self.completion(of: p.stack), best.map({ text.count < $0.count }) ?? true else { continue }
            var check = self
            if check.feed(text), check.isComplete { best = text }
        }
        return best
    }

    /// The closing text of a stack of frames, top (last) first.
    private static func completion(of stack: [Frame]) -> [UInt8]? {
        var out: [UInt8] = []
        for frame in stack.reversed() {
            switch frame {
            case .value(let node):
                guard let v = shortestValue(node) else { return nil }
                out += v
            case .string(let lexer):
                guard let rest = close(lexer) else { return nil }
                out += rest
            case .number(var lexer):
                var n = 0
                while !lexer.isComplete {
                    guard n < 4, lexer.feed(0x30) else { return nil }
                    out.append(0x30)
                    n += 1
                }
            case .literal(let literal):
                if literal.isComplete { continue }
                guard let i = literal.candidates.min(by: { literal.literals[$0].count < literal.literals[$1].count })
                else { return nil }
                out += literal.literals[i][literal.position...]
            case .array(let a):
                var count = a.count
                switch a.phase {
                case .comma:
                    guard let v = shortestValue(a.node.itemSchema) else { return nil }
                    out += v
                    count += 1
                case .start, .afterValue: break
                }
                while count < a.node.minItems {
                    guard let v = shortestValue(a.node.itemSchema) else { return nil }
                    if count > 0 { out.append(0x2C) }
                    out += v
                    count += 1
                }
                out.append(0x5D)
            case .object(let o):
                var seen = o.seen
                var members = 0
                switch o.phase {
                case .key(let bytes, let lexer):
                    let name: String, schema: JSONSchema.Node
                    // The name being typed: finish an unwritten declared name it begins (a required one
                    // first, which spares writing that member later); with other names allowed and
                    // none matching, close it as it is.
                    let unused = o.node.properties.filter { !seen.contains($0.name) && $0.escaped.starts(with: bytes) }
                    if let p = unused.first(where: { o.node.required.contains($0.name) })
                        ?? (o.node.additionalSchema == nil ? unused.first : nil) {
                        out += p.escaped[bytes.count...]
                        out.append(0x22)
                        (name, schema) = (p.name, p.schema)
                    } else {
                        guard o.node.additionalSchema != nil, let rest = close(lexer),
                              let n = keyName(bytes + rest.dropLast()), let member = o.node.member(n) else { return nil }
                        out += rest
                        (name, schema) = (n, member)
                    }
                    guard let v = shortestValue(schema) else { return nil }
                    out.append(0x3A)
                    out += v
                    seen.insert(name)
                    members = 1
                case .colon(let member):
                    guard let v = shortestValue(member) else { return nil }
                    out.append(0x3A)
                    out += v
                    members = 1
                case .afterValue: members = 1
                case .start: members = 0
                case .comma: members = -1
                }
                guard let rest = requiredMembers(o.node, seen: seen, leadingComma: members > 0) else { return nil }
                if members < 0 && rest.isEmpty {
                    // After a comma a member must come: the shortest optional one.
                    guard let extra = anyMember(o.node, seen: seen) else { return nil }
                    out += extra
                } else {
                    out += rest
                }
                out.append(0x7D)
            }
        }
        return out
    }

    /// The rest of an open string: what an open escape or UTF-8 sequence needs, letters up to
    /// `minLength`, the closing quote.
    private static func close(_ lexer: StringLexer) -> [UInt8]? {
        var lexer = lexer
        var out: [UInt8] = []
        // An escape or a UTF-8 sequence takes at most 5 more bytes; then a letter per code point.
        for _ in 0...(min(lexer.minLength, 1 << 16) + 6) {
            var copy = lexer
            if copy.feed(0x22) == .close { return out + [0x22] }
            let current = lexer
            guard let b = ([0x61, 0x30, 0x6E, 0x80, 0x90, 0xA0] as [UInt8]).first(where: {
                var c = current
                return c.feed($0) != .reject
            }) else { return nil }
            _ = lexer.feed(b)
            out.append(b)
        }
        return nil
    }

    /// `"name":value` for each required member not yet written, in schema order, each after a
    /// comma but the first (unless `leadingComma`).
    private static func requiredMembers(_ node: JSONSchema.Node, seen: Set<String>, leadingComma: Bool,
                                        depth: Int = 0) -> [UInt8]? {
        let declared = node.properties.map(\.name)
        let missing = declared.filter { node.required.contains($0) && !seen.contains($0) }
            + node.required.subtracting(declared).subtracting(seen).sorted()
        var out: [UInt8] = []
        for (i, name) in missing.enumerated() {
            guard let schema = node.member(name), let v = shortestValue(schema, depth: depth + 1) else { return nil }
            if i > 0 || leadingComma { out.append(0x2C) }
            out += Array(JSONSerializer.string(.string(name)).utf8) + [0x3A] + v
        }
        return out
    }

    /// The shortest optional member that may still be written (after a comma, one must be).
    private static func anyMember(_ node: JSONSchema.Node, seen: Set<String>) -> [UInt8]? {
        var best: [UInt8]?
        for p in node.properties where !seen.contains(p.name) {
            guard let v = shortestValue(p.schema, depth: 1) else { continue }
            let text = [0x22] + p.escaped + [0x22, 0x3A] + v
            if best.map({ text.count < $0.count }) ?? true { best = text }
        }
        if best == nil, let extra = node.additionalSchema, let v = shortestValue(extra, depth: 1) {
            var name = "a"
            while seen.contains(name) { name += "a" }
            best = Array(JSONSerializer.string(.string(name)).utf8) + [0x3A] + v
        }
        return best
    }

    /// The shortest text of a value `node` allows (nil past a nesting depth of 32: a schema that
    /// refers to itself).
    private static func shortestValue(_ node: JSONSchema.Node, depth: Int = 0) -> [UInt8]? {
        guard depth < 32 else { return nil }
        if let alternatives = node.anyOf {
            return alternatives.compactMap { shortestValue($0, depth: depth + 1) }.min { $0.count < $1.count }
        }
        if let literals = node.literals { return literals.min { $0.count < $1.count } }
        let k = node.kinds
        var options: [[UInt8]] = []
        if !k.isDisjoint(with: [.number, .integer]) { options.append([0x30]) }
        if k.contains(.string), node.minLength <= 1 << 16 {
            options.append([0x22] + Array(repeating: 0x61, count: node.minLength) + [0x22])
        }
        if k.contains(.null) { options.append(Array("null".utf8)) }
        if k.contains(.boolean) { options.append(Array("true".utf8)) }
        if k.contains(.array), node.minItems == 0 {
            options.append([0x5B, 0x5D])
        } else if k.contains(.array), node.minItems <= 64, let item = shortestValue(node.itemSchema, depth: depth + 1) {
            options.append([0x5B] + Array([[UInt8]](repeating: item, count: node.minItems).joined(separator: [0x2C])) + [0x5D])
        }
        if k.contains(.object), let members = requiredMembers(node, seen: [], leadingComma: false, depth: depth) {
            options.append([0x7B] + members + [0x7D])
        }
        return options.min { $0.count < $1.count }
    }

    // MARK: - Parse states

    private struct Path: Sendable {
        var stack: [Frame]
        /// The whitespace just read: 0 none, -1 a space, n > 0 a newline and n - 1 spaces or tabs.
        var whitespace: Int

        /// Closed, or a top-level number or literal that may end here.
        var isComplete: Bool {
            switch stack.count {
            case 0: return true
            case 1:
                if case .number(let n) = stack[0] { return n.isComplete }
                if case .literal(let l) = stack[0] { return l.isComplete }
                return false
            default: return false
            }
        }
    }

    private enum Frame: Sendable {
        /// A value of the node comes next (whitespace may come first).
        case value(JSONSchema.Node)
        case object(ObjectFrame)
        case array(ArrayFrame)
        case string(StringLexer)
        case number(NumberLexer)
        case literal(LiteralFrame)
    }

    private struct ObjectFrame: Sendable {
        enum Phase: Sendable {
            /// After `{`: a key or `}`.
            case start
            /// After `,`: a key.
            case comma
            /// Inside a key: its bytes so far.
            case key([UInt8], StringLexer)
            /// After the key: `:`, then the member's value.
            case colon(JSONSchema.Node)
            /// After a member's value: `,` or `}`.
            case afterValue
        }
        let node: JSONSchema.Node
        var phase = Phase.start
        var seen: Set<String> = []

        var mayClose: Bool { node.required.isSubset(of: seen) }
        /// Another member can be written.
        var mayAddKey: Bool {
            node.additionalSchema != nil || node.properties.contains { !seen.contains($0.name) }
        }
    }

    private struct ArrayFrame: Sendable {
        enum Phase: Sendable { case start, comma, afterValue }
        let node: JSONSchema.Node
        var phase = Phase.start
        var count = 0
    }

    private struct LiteralFrame: Sendable {
        let literals: [[UInt8]]
        /// Literals the text so far is a prefix of.
        var candidates: [Int]
        var position = 0

        var isComplete: Bool { candidates.contains { literals[$0].count == position } }
        var canGrow: Bool { candidates.contains { literals[$0].count > position } }

        mutating func feed(_ b: UInt8) -> Bool {
            let next = candidates.filter { literals[$0].count > position && literals[$0][position] == b }
            guard !next.isEmpty else { return false }
            candidates = next
            position += 1
            return true
        }
    }

    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    /// A whitespace byte where the grammar allows whitespace: one space, or a newline followed by
    /// at most `maxIndent` spaces or tabs.
    private static func whitespace(_ path: Path, _ b: UInt8, into out: inout [Path]) {
        var p = path
        switch (p.whitespace, b) {
        case (0, 0x20): p.whitespace = -1
        case (0, 0x0A): p.whitespace = 1
        case (1...maxIndent, 0x20), (1...maxIndent, 0x09): p.whitespace += 1
        default: return
        }
        out.append(p)
    }

    /// The paths after `p` reads `b`, appended to `out` (none when `b` cannot come next).
    private static func advance(_ path: Path, _ b: UInt8, into out: inout [Path]) {
        var p = path
        guard let top = p.stack.popLast() else { return }
        let space = isWhitespace(b)
        if !space { p.whitespace = 0 }
        switch top {
        case .value(let node):
            if space {
                p.stack.append(top)
                return whitespace(p, b, into: &out)
            }
            startValue(node, p, b, into: &out)

        case .string(var lexer):
            switch lexer.feed(b) {
            case .reject: return
            case .more: p.stack.append(.string(lexer))
            case .close: break
            }
            p.whitespace = 0
            out.append(p)

        case .number(var lexer):
            if lexer.feed(b) {
                p.stack.append(.number(lexer))
                out.append(p)
            } else if lexer.isComplete {
                // The number ended before `b`, which belongs to the enclosing value.
                advance(p, b, into: &out)
            }

        case .literal(var literal):
            if literal.feed(b) {
                if literal.canGrow { p.stack.append(.literal(literal)) }
                p.whitespace = 0
                out.append(p)
            } else if literal.isComplete {
                advance(p, b, into: &out)
            }

        case .array(var a):
            if space {
                p.stack.append(top)
                return whitespace(p, b, into: &out)
            }
            switch a.phase {
            case .start where b == 0x5D, .afterValue where b == 0x5D:
                guard a.count >= a.node.minItems else { return }
                out.append(p)
            case .afterValue:
                guard b == 0x2C, a.count < a.node.maxItems else { return }
                a.phase = .comma
                p.stack.append(.array(a))
                out.append(p)
            case .start, .comma:
                guard a.count < a.node.maxItems else { return }
                a.count += 1
                a.phase = .afterValue
                p.stack.append(.array(a))
                startValue(a.node.itemSchema, p, b, into: &out)
            }

        case .object(var o):
            switch o.phase {
            case .key(var bytes, var lexer):
                guard let next = keyByte(o, &bytes, &lexer, b) else { return }
                if case .colon = next, let name = Self.keyName(bytes) { o.seen.insert(name) }
                o.phase = next
                p.whitespace = 0
                p.stack.append(.object(o))
                out.append(p)
            case _ where space:
                p.stack.append(top)
                whitespace(p, b, into: &out)
            case .start, .afterValue:
                if b == 0x7D {
                    guard o.mayClose else { return }
                    out.append(p)
                    return
                }
                if case .start = o.phase, b == 0x22, o.mayAddKey {
                    o.phase = .key([], StringLexer())
                } else if case .afterValue = o.phase, b == 0x2C, o.mayAddKey {
                    o.phase = .comma
                } else {
                    return
                }
                p.stack.append(.object(o))
                out.append(p)
            case .comma:
                guard b == 0x22 else { return }
                o.phase = .key([], StringLexer())
                p.stack.append(.object(o))
                out.append(p)
            case .colon(let member):
                guard b == 0x3A else { return }
                o.phase = .afterValue
                p.stack.append(.object(o))
                p.stack.append(.value(member))
                out.append(p)
            }
        }
    }

    /// The first byte of a value of `node` (not whitespace): opens the frame that reads it.
    private static func startValue(_ node: JSONSchema.Node, _ path: Path, _ b: UInt8, into out: inout [Path]) {
        var p = path
        p.whitespace = 0
        if let alternatives = node.anyOf {
            for alternative in alternatives { startValue(alternative, p, b, into: &out) }
            return
        }
        if let literals = node.literals {
            var frame = LiteralFrame(literals: literals, candidates: Array(literals.indices))
            guard frame.feed(b) else { return }
            if frame.canGrow { p.stack.append(.literal(frame)) }
            out.append(p)
            return
        }
        let k = node.kinds
        switch b {
        case 0x7B where k.contains(.object):
            p.stack.append(.object(ObjectFrame(node: node)))
        case 0x5B where k.contains(.array):
            p.stack.append(.array(ArrayFrame(node: node)))
        case 0x22 where k.contains(.string):
            p.stack.append(.string(StringLexer(minLength: node.minLength, maxLength: node.maxLength)))
        case 0x2D, 0x30...0x39:
            guard !k.isDisjoint(with: [.number, .integer]) else { return }
            var lexer = NumberLexer(integerOnly: !k.contains(.number))
            guard lexer.feed(b) else { return }
            p.stack.append(.number(lexer))
        case 0x74 where k.contains(.boolean), 0x66 where k.contains(.boolean):
            var frame = LiteralFrame(literals: [Array("true".utf8), Array("false".utf8)], candidates: [0, 1])
            _ = frame.feed(b)
            p.stack.append(.literal(frame))
        case 0x6E where k.contains(.null):
            var frame = LiteralFrame(literals: [Array("null".utf8)], candidates: [0])
            _ = frame.feed(b)
            p.stack.append(.literal(frame))
        default:
            return
        }
        out.append(p)
    }

    /// A byte of an object's key: the next phase (still the key, or `colon` with the member's
    /// schema once the key is closed), or nil when no allowed key goes on so. Without
    /// additionalProperties the key must spell an unused declared name as the serializer escapes it.
    private static func keyByte(_ o: ObjectFrame, _ bytes: inout [UInt8], _ lexer: inout StringLexer,
                                _ b: UInt8) -> ObjectFrame.Phase? {
        let node = o.node
        if node.additionalSchema == nil {
            let unused = node.properties.filter { !o.seen.contains($0.name) }
            if b == 0x22 {
                guard let match = unused.first(where: { $0.escaped == bytes }) else { return nil }
                return .colon(match.schema)
            }
            bytes.append(b)
            let prefix = bytes
            guard unused.contains(where: { $0.escaped.starts(with: prefix) }) else { return nil }
            _ = lexer.feed(b)
            return .key(bytes, lexer)
        }
        switch lexer.feed(b) {
        case .reject: return nil
        case .more:
            bytes.append(b)
            return .key(bytes, lexer)
        case .close:
            guard let name = keyName(bytes), !o.seen.contains(name), let schema = node.member(name) else { return nil }
            return .colon(schema)
        }
    }

    /// A key's text from its bytes between the quotes.
    private static func keyName(_ bytes: [UInt8]) -> String? {
        (try? JSONParser.parse(bytes: [0x22] + bytes + [0x22]))?.string
    }
}

/// The inside of a JSON string, byte by byte: escapes, UTF-8 (Unicode Table 3-7), control
/// characters refused, and the length in code points kept between `minLength` and `maxLength`.
struct StringLexer: Sendable {
    enum Outcome { case more, close, reject }

    var minLength = 0
    var maxLength = Int.max
    /// Code points so far (an escape counts one).
    private(set) var length = 0
    /// 0: none; 1: after `\`; 2...5: inside `\u`, 2 + hex digits read.
    private var escape = 0
    private var hex: UInt32 = 0
    private var lead: UInt8 = 0
    private var read = 0
    private var need = 0

    init(minLength: Int = 0, maxLength: Int = .max) {
        self.minLength = minLength
        self.maxLength = maxLength
    }

    mutating func feed(_ b: UInt8) -> Outcome {
        if need > 0 {
            guard StreamingDecoder.continuationValid(lead: lead, index: read, byte: b) else { return .reject }
            read += 1
            if read == need { need = 0 }
            return .more
        }
        switch escape {
        case 1:
            if b == 0x75 {
                escape = 2
                hex = 0
                return .more
            }
            guard [0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74].contains(b) else { return .reject }
            escape = 0
            return .more
        case 2...5:
            guard let v = Self.hexValue(b) else { return .reject }
            hex = hex * 16 + v
            // \uD800-\uDFFF (surrogates) are refused: every escape is one whole code point.
            if escape == 3, (0xD8...0xDF).contains(hex) { return .reject }
            escape = escape == 5 ? 0 : escape + 1
            return .more
        default:
            if b == 0x22 { return length >= minLength ? .close : .reject }
            guard length < maxLength, b >= 0x20 else { return .reject }
            if b == 0x5C {
                escape = 1
            } else if b >= 0x80 {
                need = StreamingDecoder.sequenceLength(b)
                guard need > 1 else { return .reject }
                lead = b
                read = 1
            }
            length += 1
            return .more
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }
}

/// A JSON number, byte by byte (RFC 8259 §6), with at most 16 integer and 16 fraction digits and 3
/// exponent digits; `integerOnly` allows no fraction and no exponent.
struct NumberLexer: Sendable {
    private enum Phase: Sendable { case start, minus, zero, integer, dot, fraction, e, sign, exponent }
    let integerOnly: Bool
    private var phase = Phase.start
    private var digits = 0

    init(integerOnly: Bool) { self.integerOnly = integerOnly }

    var isComplete: Bool { [.zero, .integer, .fraction, .exponent].contains(phase) }

    mutating func feed(_ b: UInt8) -> Bool {
        let digit = (0x30...0x39).contains(b)
        switch (phase, b) {
        case (.start, 0x2D): phase = .minus
        case (.start, 0x30), (.minus, 0x30): phase = .zero
        case (.start, 0x31...0x39), (.minus, 0x31...0x39):
            phase = .integer
            digits = 1
        case (.integer, _) where digit:
            guard digits < JSONRecognizer.maxDigits else { return false }
            digits += 1
        case (.zero, 0x2E), (.integer, 0x2E):
            guard !integerOnly else { return false }
            phase = .dot
        case (.zero, 0x65), (.zero, 0x45), (.integer, 0x65), (.integer, 0x45), (.fraction, 0x65), (.fraction, 0x45):
            guard !integerOnly else { return false }
            phase = .e
        case (.dot, _) where digit:
            phase = .fraction
            digits = 1
        case (.fraction, _) where digit:
            guard digits < JSONRecognizer.maxDigits else { return false }
            digits += 1
        case (.e, 0x2B), (.e, 0x2D): phase = .sign
        case (.e, _) where digit, (.sign, _) where digit:
            phase = .exponent
            digits = 1
        case (.exponent, _) where digit:
            guard digits < JSONRecognizer.maxExponentDigits else { return false }
            digits += 1
        default: return false
        }
        return true
    }
}
