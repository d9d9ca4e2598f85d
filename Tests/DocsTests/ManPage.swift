import Foundation

// A man page of this project (man/*.1) as the docs tests read it: its section names and its
// EXAMPLES blocks (`.EX` … `.EE`), with roff escapes turned back into the text a user types.

/// One man page: section headings and runnable examples.
struct ManPage {
    /// The page's `.SH` headings in order, e.g. ["NAME", "SYNOPSIS", …].
    var sections: [String]
    /// The `.EX` … `.EE` blocks of the EXAMPLES section, in order.
    var examples: [ManPageExample]
    /// The page's text with roff escapes removed, for looking options up.
    var plainText: String

    /// Errors in a page that the tests report instead of crashing on.
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init(contentsOf url: URL) throws {
        try self.init(text: String(contentsOf: url, encoding: .utf8), name: url.lastPathComponent)
    }

    init(text: String, name: String) throws {
        var sections: [String] = []
        var examples: [ManPageExample] = []
        var directives: [String] = []
        var block: [String] = []
        var inBlock = false
        var blockLine = 0
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let lineNumber = index + 1
            if inBlock {
                if line == ".EE" {
                    examples.append(try ManPageExample(
                        script: block.joined(separator: "\n"), directives: directives,
                        location: "\(name):\(blockLine)"))
                    inBlock = false
                    directives = []
                } else if line.hasPrefix(".EX") {
                    throw FormatError(description: "\(name):\(lineNumber): .EX inside an example")
                } else if !line.hasPrefix(".\\\"") {
                    block.append(Self.unescape(line))
                }
                continue
            }
            if line.hasPrefix(".SH ") {
                sections.append(String(line.dropFirst(4)).trimmingCharacters(in: CharacterSet(charactersIn: " \"")))
                directives = []
            } else if line.hasPrefix(".EX") {
                guard sections.last == "EXAMPLES" else {
                    throw FormatError(description: "\(name):\(lineNumber): .EX outside EXAMPLES")
                }
                block = []
                inBlock = true
                blockLine = lineNumber
            } else if let directive = ManPageExample.directive(in: line) {
                directives.append(directive)
            }
        }
        if inBlock {
            throw FormatError(description: "\(name):\(blockLine): .EX without .EE")
        }
        self.sections = sections
        self.examples = examples
        self.plainText = Self.unescape(text)
    }

    /// The text a roff line shows: `\e` and `\\` are a backslash, `\-` a hyphen, `\(dq` and `\(aq`
    /// quotes, `\&` nothing, font changes (`\fB`, `\fR`, …) nothing.
    static func unescape(_ line: String) -> String {
        var out = ""
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            guard c == "\\", let next = chars.popFirst() else {
                out.append(c)
                continue
            }
            switch next {
            case "e", "\\": out.append("\\")
            case "-": out.append("-")
            case "&": break
            case "f":
                if chars.first == "(" { chars = chars.dropFirst(3) } else { chars = chars.dropFirst() }
            case "(":
                let name = String(chars.prefix(2))
                chars = chars.dropFirst(2)
                out.append(["dq": "\"", "aq": "'", "en": "-", "em": "--", "ti": "~", "ha": "^"][name] ?? "?")
            default: out.append(next)
            }
        }
        return out
    }
}
