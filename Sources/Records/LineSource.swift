#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a file descriptor with `read(2)`, handing out each line as a view into its buffer.
///
/// Why not `FileHandle` or `readLine()`: `read(2)` returns as soon as a pipe has data, so a line written
/// by `tail -f` reaches the tool at once, and lines are never copied before parsing (the parser reads
/// them in place), which is most of the speed on a million-line file. Memory is bounded by the longest
/// line, never by the file.
final class LineSource {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0  // first unconsumed byte
    private var end = 0  // one past the last byte read
    private var scanned = 0  // bytes after `start` already known to hold no newline
    private var atEOF = false
    private(set) var lineNumber = 0

    static let readSize = 1 << 16
    /// The longest line held in memory (documented in every filter's man page, "LIMITS"): a longer
    /// one is skipped to its newline without being kept, and reported by its length.
    static let defaultMaxLineBytes = 64 << 20
    let maxLineBytes: Int

    init(fileDescriptor: Int32, ownsDescriptor: Bool, maxLineBytes: Int = LineSource.defaultMaxLineBytes) {
        self.fd = fileDescriptor
        self.ownsDescriptor = ownsDescriptor
        self.maxLineBytes = maxLineBytes
        self.capacity = 4 * Self.readSize
        self.buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// Calls `body` with the next line (without its `\n` or `\r\n`) and returns its result, or returns
    /// nil at end of input. The buffer is only valid inside `body`. A line longer than
    /// `maxLineBytes` is read through and dropped, and `overlong` gets its length instead.
    func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T, overlong: (Int) throws -> T) throws -> T? {
        while true {
            let searchFrom = start + scanned
            if searchFrom < end, let found = memchr(buffer + searchFrom, 0x0A, end - searchFrom) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                let lineStart = start
                start = newline + 1
                scanned = 0
                lineNumber += 1
                return try body(trimmed(from: lineStart, to: newline))
            }
            scanned = end - start
            if scanned > maxLineBytes { return try overlong(try skipLine()) }
            if atEOF {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                scanned = 0
                lineNumber += 1
                return try body(trimmed(from: lineStart, to: end))
            }
            try fill()
        }
    }

    /// Drops the current line up to and including its newline (or the end of input) without
    /// keeping it; returns its length.
    private func skipLine() throws -> Int {
        var length = 0
        while true {
            if start < end, let found = memchr(buffer + start, 0x0A, end - start) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                length += newline - start
                start = newline + 1
                break
            }
            length += end - start
            start = end
            if atEOF { break }
            try fill()
        }
        scanned = 0
        lineNumber += 1
        return length
    }

    private func trimmed(from lineStart: Int, to lineEnd: Int) -> UnsafeBufferPointer<UInt8> {
        var stop = lineEnd
        if stop > lineStart && buffer[stop - 1] == 0x0D { stop -= 1 }
        return UnsafeBufferPointer(start: buffer + lineStart, count: stop - lineStart)
    }

    /// Reads more bytes, first making room by moving the partial line to the front or growing.
    private func fill() throws {
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            start = 0
            end = pending
        }
        if capacity - end < Self.readSize {
            let newCapacity = capacity * 2
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 {
                end += n
                return
            }
            if n == 0 {
                atEOF = true
                return
            }
            if errno == EINTR { continue }
            throw SystemError(operation: "read", code: errno)
        }
    }
}

/// A failed system call, described with `strerror`.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code)))"
    }
}
