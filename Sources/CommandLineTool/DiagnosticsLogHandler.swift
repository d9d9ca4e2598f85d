import Foundation
import Logging

/// A swift-log handler that writes a library's log messages as diagnostic lines on stderr
/// (`gemma-infer: error: …`, `gemma-infer: listening on …`), in the form `Diagnostics` writes, so a
/// long-running server that logs through `Logger` from many threads reads like every other tool.
/// `error` and above are errors, `warning` warnings, anything else a plain note.
public struct DiagnosticsLogHandler: LogHandler {
    public let tool: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let write: @Sendable (String) -> Void

    /// Writes to stderr, or to `write` (tests collect the lines).
    public init(tool: String, write: (@Sendable (String) -> Void)? = nil) {
        self.tool = tool
        self.write = write ?? { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// A logger for `tool` through this handler.
    public static func logger(tool: String) -> Logger {
        Logger(label: tool) { _ in DiagnosticsLogHandler(tool: tool) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        let kind: Diagnostics.Level = level >= .error ? .error : level == .warning ? .warning : .note
        write(Diagnostics.line(tool: tool, level: kind, "\(message)"))
    }
}
