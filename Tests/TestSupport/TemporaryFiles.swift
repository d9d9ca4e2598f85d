import Foundation

// Files a test run shares between tests (a model written once, a loop run once) cannot be removed by
// any one test; they are removed when the test process exits.

private let pendingRemovals = NSLock()
nonisolated(unsafe) private var removals: [String] = []

/// Removes `path` (a file or a directory) when the process exits normally.
public func removeAtExit(_ path: String) {
    pendingRemovals.lock()
    defer { pendingRemovals.unlock() }
    if removals.isEmpty {
        atexit {
            pendingRemovals.lock()
            let paths = removals
            pendingRemovals.unlock()
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
        }
    }
    removals.append(path)
}
