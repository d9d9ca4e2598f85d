import Foundation
import Records

/// The traffic log: one JSONL record per finished request (and per feedback and rejected request),
/// appended and flushed at once so that `tail -f` and the monitoring filters see each record as it
/// happens. Writes from concurrent requests are serialized, so records never interleave.
///
/// The log is also where feedback finds the answer it rates, across restarts: opening a log file
/// scans the records already in it for answered requests (those with an `answer`) and keeps each
/// one's id with the byte range of its line (about 100 bytes of memory per answer, no text); later
/// answers are added as they are written. `answer(id:)` reads the line back. With `-` (standard
/// output) nothing can be read back, so the last 100,000 answers (up to 110,000) are kept in memory instead.
public final class TrafficLog: @unchecked Sendable {
    private let writer: JSONLWriter
    private let lock = NSLock()
    /// Where the log goes, for messages (`-` is standard output).
    public let path: String
    /// For reading answers back (files only).
    private let reader: Int32?
    private var end: Int64 = 0
    private var lines: [String: (offset: Int64, length: Int)] = [:]
    /// Standard output only: recent answers, oldest first in `recentOrder`.
    private var recent: [String: JSONObject] = [:]
    private var recentOrder: [String] = []
    static let recentLimit = 100_000

    /// Opens `path` for appending (created if missing); `-` writes to standard output.
    public init(path: String) throws {
        self.path = path
        if path == "-" {
            writer = JSONLWriter.standardOutput()
            reader = nil
        } else {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard fd >= 0 else {
                throw ServeError.cannotOpenLog(path: path, reason: String(cString: strerror(errno)))
            }
            writer = JSONLWriter(fileDescriptor: fd, ownsDescriptor: true)
            let rfd = open(path, O_RDONLY)
            guard rfd >= 0 else {
                throw ServeError.cannotOpenLog(path: path, reason: String(cString: strerror(errno)))
            }
            reader = rfd
            try indexExisting(rfd)
            // A last line cut short (a crash mid-write) gets its newline, so that the next record
            // starts a line of its own instead of being lost with it.
            if end > 0 {
                var last: UInt8 = 0
                if pread(rfd, &last, 1, off_t(end - 1)) == 1, last != UInt8(ascii: "\n") {
                    try writer.write(text: "\n")
                    try writer.flush()
                    end += 1
                }
            }
        }
    }

    deinit { if let reader { close(reader) } }

    /// Appends one record and flushes it.
    public func append(_ record: JSONObject) throws {
        let line = JSONSerializer.string(.object(record))
        lock.lock()
        defer { lock.unlock() }
        try writer.write(text: line + "\n")
        try writer.flush()
        let length = line.utf8.count
        if let id = Self.answerID(record) {
            if reader != nil {
                lines[id] = (end, length)
            } else {
                if recent.updateValue(record, forKey: id) == nil { recentOrder.append(id) }
                // The oldest tenth goes at once, so that the eviction's copy is not paid per answer.
                if recentOrder.count > Self.recentLimit + Self.recentLimit / 10 {
                    let dropped = recentOrder.count - Self.recentLimit
                    for old in recentOrder.prefix(dropped) { recent[old] = nil }
                    recentOrder.removeFirst(dropped)
                }
            }
        }
        end += Int64(length + 1)
    }

    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        try writer.flush()
    }

    /// The logged answer with this id (a record of an answered request), or nil.
    public func answer(id: String) -> JSONObject? {
        lock.lock()
        let found = lines[id]
        let kept = recent[id]
        lock.unlock()
        if let kept { return kept }
        guard let found, let reader else { return nil }
        var bytes = [UInt8](repeating: 0, count: found.length)
        let read = bytes.withUnsafeMutableBytes { pread(reader, $0.baseAddress, found.length, off_t(found.offset)) }
        guard read == found.length, let record = try? JSONParser.parse(bytes: bytes).object,
              Self.answerID(record) == id else { return nil }
        return record
    }

    /// The id of an answered request's record (not feedback, not a rejected request).
    static func answerID(_ record: JSONObject) -> String? {
        guard record["type"] == nil, record["answer"]?.string != nil else { return nil }
        return record["id"]?.string
    }

    /// Indexes the answers already in the file; a line that is not a record is skipped.
    private func indexExisting(_ fd: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []
        var offset: Int64 = 0
        var lineStart: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 { throw ServeError.cannotOpenLog(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            var from = 0
            for i in 0..<n where buffer[i] == UInt8(ascii: "\n") {
                pending.append(contentsOf: buffer[from..<i])
                indexLine(pending, at: lineStart)
                lineStart = offset + Int64(i) + 1
                pending.removeAll(keepingCapacity: true)
                from = i + 1
            }
            pending.append(contentsOf: buffer[from..<n])
            offset += Int64(n)
        }
        // A last line without its newline (a crash mid-write) is not indexed.
        end = offset
    }

    private func indexLine(_ bytes: [UInt8], at offset: Int64) {
        // Only lines that can be answers are parsed in full.
        guard bytes.count < 64 << 20, let record = try? JSONParser.parse(bytes: bytes).object,
              let id = Self.answerID(record) else { return }
        lines[id] = (offset, bytes.count)
    }
}
