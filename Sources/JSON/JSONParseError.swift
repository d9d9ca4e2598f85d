/// Why a JSON text was rejected, and where: `column` is the 1-based byte offset in the line, which is
/// what an editor's "go to column" or `cut -c` wants when a log line is long.
public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public var column: Int
    public var reason: String

    public init(column: Int, reason: String) {
        self.column = column
        self.reason = reason
    }

    public var description: String { "invalid JSON at column \(column): \(reason)" }
}
