/// Why a JSON text was rejected, and where: `line` (1-based, always 1 for a JSON Lines record) and
/// `column`, the 1-based byte offset in that line, which is what an editor's "go to column" or
/// `cut -c` wants when a log line is long.
public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public var line: Int
    public var column: Int
    public var reason: String

    public init(line: Int = 1, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// For a record, whose line in the file its reader reports: "invalid JSON at column 8: …".
    public var description: String {
        line == 1 ? "invalid JSON at column \(column): \(reason)" : "invalid JSON at line \(line), column \(column): \(reason)"
    }

    /// For a document (a file of its own): "not valid JSON: line 3, column 8: …".
    public var documentDescription: String { "not valid JSON: line \(line), column \(column): \(reason)" }
}
