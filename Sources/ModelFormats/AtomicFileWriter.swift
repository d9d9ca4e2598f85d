#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file atomically: bytes go to a temporary file in the destination's directory, which is
/// flushed to disk and renamed over the destination only when everything was written. A crash or a
/// full disk midway leaves the old file (or none) in place, never a truncated model that a later run
/// would try to load.
final class AtomicFileWriter {
    let path: String
    private let temporaryPath: String
    private var stream: UnsafeMutablePointer<FILE>?
    private(set) var bytesWritten = 0

    init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let stream = fopen(temporaryPath, "wbx") else {
            throw ModelFormatError.io(path: path, message: "cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
        }
        self.stream = stream
        PendingOutputs.add(temporaryPath)
    }

    deinit {
        // Not committed: drop the partial file.
        if let stream {
            fclose(stream)
            unlink(temporaryPath)
        }
        PendingOutputs.remove(temporaryPath)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let stream else { throw ModelFormatError.io(path: path, message: "write after the file was finished") }
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        guard fwrite(base, 1, bytes.count, stream) == bytes.count else {
            throw ModelFormatError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
        bytesWritten += bytes.count
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes `byteCount` bytes that `fill` produces into a zeroed scratch buffer; one tensor at a
    /// time is held in memory this way.
    func write(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        defer { buffer.deallocate() }
        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount])
        slice.initializeMemory(as: UInt8.self, repeating: 0)
        try fill(slice)
        try write(UnsafeRawBufferPointer(slice))
    }

    func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    /// Flushes, syncs and renames the temporary file over the destination.
    func commit() throws {
        guard let stream else { throw ModelFormatError.io(path: path, message: "file was already finished") }
        self.stream = nil
        let flushed = fflush(stream) == 0 && fsync(fileno(stream)) == 0
        let flushError = errno
        let closed = fclose(stream) == 0
        guard flushed, closed else {
            unlink(temporaryPath)
            throw ModelFormatError.io(path: path, message: "write failed: \(String(cString: strerror(flushed ? errno : flushError)))")
        }
        guard rename(temporaryPath, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw ModelFormatError.io(path: path, message: "cannot rename the finished file into place: \(message)")
        }
    }
}
