#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors and warnings for humans, on stderr, in the form `tool: error: message (file:line N)`, and
/// counted, so a tool can report every problem, keep going, and choose its exit status at the end.
public final class Diagnostics {
    public let tool: String
    public private(set) var errorCount = 0
    public private(set) var warningCount = 0
    private let sink: (String) -> Void

    /// Writes to stderr.
    public convenience init(tool: String) {
        self.init(tool: tool) { line in
            fputs(line + "\n", stderr)
            fflush(stderr)
        }
    }

    /// Sends each formatted line to `sink` (tests collect them).
    public init(tool: String, sink: @escaping (String) -> Void) {
        self.tool = tool
        self.sink = sink
    }

    public func error(_ message: String, at location: RecordLocation? = nil) {
        errorCount += 1
        sink(Self.line(tool: tool, level: .error, message, at: location))
    }

    public func warning(_ message: String, at location: RecordLocation? = nil) {
        warningCount += 1
        sink(Self.line(tool: tool, level: .warning, message, at: location))
    }

    /// An informational line (not counted), e.g. a summary at the end of a run.
    public func note(_ message: String) {
        sink(Self.line(tool: tool, level: .note, message))
    }

    /// What a line says about itself: `error` and `warning` are named in it, a note is not.
    public enum Level: String, Sendable {
        case error, warning, note
    }

    /// The one form of a diagnostic line, shared with `DiagnosticsLogHandler` (a server's messages).
    public static func line(tool: String, level: Level, _ message: String, at location: RecordLocation? = nil) -> String {
        let head = level == .note ? "\(tool): " : "\(tool): \(level.rawValue): "
        guard let location else { return head + message }
        return head + message + " (\(location))"
    }
}
