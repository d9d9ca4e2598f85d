/// The exit statuses of every tool, the one table their man pages' EXIT STATUS sections follow
/// (DocsTests checks each page against it and against what the tool does).
public enum ExitStatus {
    /// Everything was processed.
    public static let success: Int32 = 0
    /// Some records failed (marked or skipped). For a tool that answers a question the status
    /// answers it, as grep's does: drift-alert, an alert is active at the end; loop-eval gate, keep
    /// the current model.
    public static let recordsFailed: Int32 = 1
    /// Usage error, unreadable input, `--on-error fail`, or another fatal error.
    public static let fatal: Int32 = 2

    /// Every status a tool may exit with.
    public static let all: [Int32] = [success, recordsFailed, fatal]
}
