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
