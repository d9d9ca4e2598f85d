import Foundation
import Records

/// What a judge's reply said: the chosen option and the explanation, or why no score could be read.
public enum ParsedReply: Sendable, Equatable {
    case scored(ScoreScale.Option, explanation: String)
    /// No allowed score could be read; `reason` says what was wrong. Never turned into a score.
    case unparseable(reason: String)
}

/// Reads a score out of a judging model's free-text reply, as robustly as the replies of real models
/// demand, without ever guessing: a reply with no recognisable score is `unparseable`, never a 0.
///
/// Tried in order:
/// 1. JSON objects in the reply (inside ```json fences, bare, or surrounded by prose): the first one
///    with the scale's key (`score` or `winner`) decides.
/// 2. Prose such as `Score: 4`, `score = 1`, `Winner: B`, `**Score:** 5/5`.
/// 3. A reply that is just a score, or starts with one followed by punctuation or a line break
///    (`1`, `0.`, `A\nBecause ...`).
/// A score that is read but is not one of the allowed ones (7 on a 1-5 scale) is unparseable too.
public enum ScoreParser {
    public static func parse(_ reply: String, scale: ScoreScale) -> ParsedReply {
        let text = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return .unparseable(reason: "the reply is empty") }

        for object in jsonObjects(in: text) {
            guard let value = object[scale.key] ?? object["score"] else { continue }
            let label: String
            switch value {
            case let .string(s): label = s
            case let .number(n): label = n.int64.map(String.init) ?? String(n.double)
            default: return .unparseable(reason: "\"\(scale.key)\" is \(value.kindName), not a score")
            }
            guard let option = scale.option(forLabel: label) else {
                return .unparseable(reason: "\(scale.key) \(label) is not one of \(scale.spokenList)")
            }
            let explanation = ["explanation", "justification", "reason", "reasoning"].lazy
                .compactMap { object[$0]?.string }.first ?? ""
            return .scored(option, explanation: explanation)
        }

        let candidates = prose(text, key: scale.key)
        if let option = candidates.lazy.compactMap({ scale.option(forLabel: $0) }).first {
            return .scored(option, explanation: text)
        }
        if let number = candidates.first(where: { Double($0) != nil }) {
            return .unparseable(reason: "\(scale.key) \(number) is not one of \(scale.spokenList)")
        }

        if let option = leadingLabel(text, scale: scale) {
            return .scored(option, explanation: text)
        }
        return .unparseable(reason: "no \(scale.key) found in the reply")
    }

    /// Every top-level `{...}` in `text` that parses as a JSON object, in order. Braces inside JSON
    /// strings are skipped, so prose around the object and code fences do not matter.
    static func jsonObjects(in text: String) -> [JSONObject] {
        let bytes = Array(text.utf8)
        var objects: [JSONObject] = []
        var start = 0
        while start < bytes.count {
            guard let open = bytes[start...].firstIndex(of: UInt8(ascii: "{")) else { break }
            if let end = matchingBrace(bytes, from: open),
               let object = (try? JSONParser.parse(bytes: Array(bytes[open...end])))?.object {
                objects.append(object)
                start = end + 1
            } else {
                start = open + 1
            }
        }
        return objects
    }

    private static func matchingBrace(_ bytes: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for i in open..<bytes.count {
            let b = bytes[i]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return i }
            default: break
            }
        }
        return nil
    }

    /// `Score: 4`, `**Score**: 4/5`, `score = 1`, `Winner: "B"`: the words or numbers after each
    /// mention of the key, in order (the caller keeps the first that is an allowed label, so that
    /// "the score reflects ..." is passed over).
    static func prose(_ text: String, key: String) -> [String] {
        let keys = key == "winner" ? "winner|better answer|verdict" : "score|rating|grade"
        let pattern = "(?i)\\b(?:\(keys))\\b[*_\\s\"]*(?:is|[:=])?[*_\\s]*\"?([A-Za-z]+|-?[0-9]+(?:\\.[0-9]+)?)"
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// A reply that is one allowed label, or starts with one followed by punctuation or a line break
    /// (a number may also be followed by a space: "1 - fine"; a word may not: "A good answer").
    static func leadingLabel(_ text: String, scale: ScoreScale) -> ScoreScale.Option? {
        let stripped = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"'*`[( "))
        for option in scale.options.sorted(by: { $0.label.count > $1.label.count }) {
            guard stripped.lowercased().hasPrefix(option.label.lowercased()) else { continue }
            let rest = stripped.dropFirst(option.label.count)
            guard let next = rest.first else { return option }
            let isNumber = Double(option.label) != nil
            if next.isNewline || ".,:;)!\"'*/".contains(next) || (isNumber && next == " ") {
                if next == ".", rest.dropFirst().first?.isNumber == true { continue }
                if next == "/", !isNumber { continue }
                return option
            }
        }
        return nil
    }
}
