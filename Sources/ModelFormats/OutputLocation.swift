import Foundation
import Records

/// Where a tool writes a finished file or directory: checked before the work that produces it, and
/// written under a hidden temporary name beside it, renamed into place only when complete.
public enum OutputLocation {
    /// A hidden name in `path`'s directory for the output being written (".name.tmp-<pid>-<n>").
    public static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Checks that a file (or, with `directory`, a directory) can be written at `path` now: an
    /// existing entry there has the right kind, the directory it goes in exists (missing parents are
    /// created, as the writers would) and a file can be created in it, tried with a probe file
    /// removed at once. With `inside`, `path` is a directory to write into: it is created when
    /// missing and the probe goes inside it.
    public static func checkWritable(_ path: String, directory: Bool = false, inside: Bool = false) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue != (directory || inside) {
            throw ModelFormatError.io(path: path, message: isDirectory.boolValue ? "exists and is a directory" : "exists and is not a directory")
        }
        let target = inside ? path : URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !(fm.fileExists(atPath: target, isDirectory: &isDirectory) && isDirectory.boolValue) {
            if let failure = makeDirectories(target) {
                throw ModelFormatError.io(path: path, message: "cannot create the directory \(failure.path): \(failure.reason)")
            }
        }
        let probe = target + "/.write-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard fd >= 0 else {
            throw ModelFormatError.io(path: path, message: "cannot write in \(target): \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// Creates `path` and its missing parents with mkdir(2) (so a failure is the system's reason);
    /// nil when done, else the directory that could not be made and why.
    static func makeDirectories(_ path: String) -> (path: String, reason: String)? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                return (prefix, String(cString: strerror(errno)))
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory), isDirectory.boolValue else {
                return (prefix, "exists and is not a directory")
            }
        }
        return nil
    }

    /// Renames the finished `temporary` (file or directory) over `destination`. An existing
    /// directory there is moved aside first and deleted only after the new one is in place.
    public static func replace(_ destination: String, with temporary: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue else {
            // A file (or nothing) at the destination: rename(2) replaces it atomically.
            guard rename(temporary, destination) == 0 else {
                throw ModelFormatError.io(path: destination, message: "cannot rename the finished output into place: \(String(cString: strerror(errno)))")
            }
            return
        }
        let aside = temporary + ".old"
        guard rename(destination, aside) == 0 else {
            throw ModelFormatError.io(path: destination, message: "cannot replace the existing output: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, destination) == 0 else {
            let message = String(cString: strerror(errno))
            _ = rename(aside, destination)
            throw ModelFormatError.io(path: destination, message: "cannot rename the finished output into place: \(message)")
        }
        try? fm.removeItem(atPath: aside)
    }

    /// An error's reason without Foundation's wrapping (`SystemErrorText.reason`).
    public static func reason(_ error: Error) -> String { SystemErrorText.reason(error) }
}
