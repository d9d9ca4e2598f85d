import ArgumentParser

/// What a filter does with a record it cannot process (`--on-error`).
///
/// - `mark` (default): pass the record on with an `"error"` string field, so nothing is lost and the
///   next tool or a `jq 'select(.error)'` can find it. A line that is not JSON at all is emitted as
///   `{"error": "...", "line": N, "source": "...", "raw": "<the line>"}`.
/// - `skip`: drop it, with a message on stderr naming the file and line.
/// - `fail`: stop at the first such record with exit status 2.
///
/// Under mark and skip, a failed record makes the exit status 1 at the end.
public enum ErrorPolicy: String, CaseIterable, Sendable, ExpressibleByArgument {
    case mark, skip, fail
}

/// A record the tool could not process: thrown by a per-record closure, handled by the policy.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// An error that ends the run whatever the policy (bad configuration, unusable output): exit 2.
public struct FatalError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Exit statuses shared by the filters.
public enum ExitStatus {
    /// Everything was processed.
    public static let success: Int32 = 0
    /// Some records failed (marked or skipped); for grep-like tools, "yes".
    public static let recordsFailed: Int32 = 1
    /// Usage error, unreadable input, `--on-error fail`, or another fatal error.
    public static let fatal: Int32 = 2
}
