/// Parses durations as people write them on a command line: `90s`, `2m`, `1h30m`, `500ms`, `1d`,
/// `1.5h`. Units: `ms`, `s`, `m`, `h`, `d`, `w`; components add up and each needs a unit (a bare
/// `5` is ambiguous, so it is an error). The result is in seconds.
public enum DurationParser {
    public static func seconds(_ text: String) throws -> Double {
        let chars = Array(text.unicodeScalars)
        guard !chars.isEmpty else { throw DurationError(text: text, reason: "empty duration") }
        var total = 0.0
        var i = 0
        while i < chars.count {
            let numberStart = i
            while i < chars.count, chars[i] == "." || ("0"..."9").contains(chars[i]) { i += 1 }
            let number = String(String.UnicodeScalarView(chars[numberStart..<i]))
            guard let value = Double(number), !number.isEmpty else {
                throw DurationError(text: text, reason: "expected a number at position \(numberStart + 1)")
            }
            let unitStart = i
            while i < chars.count, ("a"..."z").contains(chars[i]) { i += 1 }
            let unit = String(String.UnicodeScalarView(chars[unitStart..<i]))
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86_400
            case "w": scale = 604_800
            case "": throw DurationError(text: text, reason: "'\(number)' needs a unit (ms, s, m, h, d, w)")
            default: throw DurationError(text: text, reason: "unknown unit '\(unit)' (use ms, s, m, h, d, w)")
            }
            total += value * scale
        }
        return total
    }
}

public struct DurationError: Error, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "invalid duration '\(text)': \(reason)" }
}
