import Foundation

/// Temporary files and directories being written beside their final names (".name.tmp-…"). A tool
/// that calls `removeOnTermination()` deletes them when stopped by SIGTERM, SIGINT or SIGHUP, so a
/// stopped run leaves no hidden partial output behind; the final names are untouched.
public enum PendingOutputs {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Registers a temporary path (file or directory) being written.
    public static func add(_ path: String) {
        lock.lock()
        paths.insert(path)
        lock.unlock()
    }

    /// The path was renamed into place or removed.
    public static func remove(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// The paths registered now.
    public static var current: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return paths
    }

    /// On SIGTERM, SIGINT or SIGHUP: removes every registered path and exits with 128 + the signal
    /// number, as the default action's status reads in a shell.
    public static func removeOnTermination() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                PendingOutputs.lock.lock()
                for path in PendingOutputs.paths { try? FileManager.default.removeItem(atPath: path) }
                PendingOutputs.paths.removeAll()
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
