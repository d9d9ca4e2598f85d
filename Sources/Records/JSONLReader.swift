#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a record came from: the input's name (`-` is shown as `stdin`) and its 1-based line number.
public struct RecordLocation: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }

    public var description: String { "\(source):line \(line)" }
}

/// One item read from JSON Lines input. A bad line or an unreadable file is an item, not a thrown
/// error, so that one broken line never ends a long run: the caller decides by its `--on-error` policy.
public enum JSONLItem {
    /// A line holding a JSON object.
    case record(JSONObject, RecordLocation)
    /// A line that is not a JSON object: the raw text (invalid UTF-8 replaced) and why.
    case malformed(raw: String, reason: String, RecordLocation)
    /// An input that could not be opened or read.
    case unreadable(source: String, reason: String)
}

/// Streams records from a list of inputs in order; none, or `-`, means standard input.
///
/// Lines are read as they arrive (live from `tail -f` too), parsed in place, and never collected:
/// blank lines are skipped, other lines become `.record` or `.malformed` items with their location.
public final class JSONLReader: Sequence, IteratorProtocol {
    private var pending: [String]
    private var current: (name: String, lines: LineSource)?
    public let maxDepth: Int
    /// The longest input line read (64 MiB): a longer line becomes a `.malformed` item saying its
    /// length, without being held in memory or echoed.
    public static let maxLineBytes = LineSource.defaultMaxLineBytes

    public init(paths: [String], maxDepth: Int = JSONParser.defaultMaxDepth) {
        self.pending = paths.isEmpty ? ["-"] : paths
        self.maxDepth = maxDepth
    }

    /// Reads from an already open descriptor (a pipe in tests, a socket), named `name` in messages.
    public init(fileDescriptor: Int32, name: String, maxDepth: Int = JSONParser.defaultMaxDepth,
                maxLineBytes: Int = JSONLReader.maxLineBytes) {
        self.pending = []
        self.current = (name, LineSource(fileDescriptor: fileDescriptor, ownsDescriptor: false, maxLineBytes: maxLineBytes))
        self.maxDepth = maxDepth
    }

    public func next() -> JSONLItem? {
        while true {
            if current == nil {
                guard !pending.isEmpty else { return nil }
                let path = pending.removeFirst()
                if path == "-" {
                    current = ("stdin", LineSource(fileDescriptor: STDIN_FILENO, ownsDescriptor: false))
                } else {
                    let fd = open(path, O_RDONLY)
                    if fd < 0 {
                        let reason = String(cString: strerror(errno))
                        return .unreadable(source: path, reason: "cannot open: \(reason)")
                    }
                    current = (path, LineSource(fileDescriptor: fd, ownsDescriptor: true))
                }
            }
            guard let (name, lines) = current else { continue }
            let maxDepth = self.maxDepth
            do {
                let item: JSONLItem?? = try lines.nextLine { bytes -> JSONLItem? in
                    if Self.isBlank(bytes) { return nil }
                    let location = RecordLocation(source: name, line: lines.lineNumber)
                    do {
                        let value = try JSONParser.parse(bytes, maxDepth: maxDepth)
                        guard case let .object(object) = value else {
                            return .malformed(raw: String(decoding: bytes, as: UTF8.self),
                                              reason: "expected a JSON object, found \(value.kindName)", location)
                        }
                        return .record(object, location)
                    } catch let error as JSONParseError {
                        return .malformed(raw: String(decoding: bytes, as: UTF8.self), reason: error.description, location)
                    }
                } overlong: { length -> JSONLItem? in
                    // Not kept, so not echoed: the error record says where and how long it was.
                    .malformed(raw: "", reason: "line of \(length) bytes is longer than the limit of \(lines.maxLineBytes) bytes; skipped unread",
                               RecordLocation(source: name, line: lines.lineNumber))
                }
                switch item {
                case .none: current = nil  // end of this input
                case .some(.none): continue  // blank line
                case let .some(.some(item)): return item
                }
            } catch {
                current = nil
                return .unreadable(source: name, reason: "\(error)")
            }
        }
    }

    private static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where !(byte == 0x20 || byte == 0x09 || byte == 0x0D) { return false }
        return true
    }
}
