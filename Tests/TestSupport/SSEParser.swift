// Server-sent events as the WHATWG HTML standard defines the event stream format (§9.2.6 "Interpreting
// an event stream"), which OpenAI-compatible servers use for `"stream": true` completions: each chunk is
// a `data: {json}` event and the stream ends with `data: [DONE]`. No tool reads a stream (they ask
// for whole replies), so the parser serves the tests that read the server's and the client's
// streams, and lives with them.

/// One dispatched event.
public struct SSEEvent: Equatable, Sendable {
    /// The `event:` field, or nil for the default type ("message").
    public var event: String?
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen in the stream so far (the standard's "last event ID"), or nil.
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    /// Whether this is OpenAI's end-of-stream sentinel, `data: [DONE]`.
    public var isDone: Bool { data == "[DONE]" }
}

/// What can be wrong with an event stream.
public enum SSEParserError: Error, CustomStringConvertible, Equatable {
    /// A line exceeded the parser's limit: the peer is not sending an event stream, or is broken.
    case lineTooLong(line: Int, limit: Int)
    /// The stream ended inside an event (no blank line after its last field): the connection was cut.
    case incompleteEvent(line: Int)

    public var description: String {
        switch self {
        case let .lineTooLong(line, limit):
            return "event stream line \(line) is longer than \(limit) bytes; is this a server-sent event stream?"
        case let .incompleteEvent(line):
            return "event stream ended inside an event (line \(line)); the connection was probably cut"
        }
    }
}

/// An incremental parser: feed it the bytes of a response as they arrive, in pieces of any size (a
/// piece may end in the middle of a line, of a UTF-8 sequence, or between CR and LF), and it returns
/// the events completed so far.
public struct SSEParser: Sendable {
    /// Longest line accepted, in bytes.
    public let maxLineBytes: Int
    /// The latest valid `retry:` field: the reconnection delay in milliseconds the server asked for.
    public private(set) var retryMilliseconds: Int?

    private var line: [UInt8] = []
    private var lineNumber = 1
    private var afterCR = false
    private var atStart = true
    private var data = ""
    private var hasData = false
    private var eventType: String?
    private var lastEventID: String?
    private var sawFieldSinceDispatch = false

    public init(maxLineBytes: Int = 1 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Consumes `bytes` and returns the events they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [SSEEvent] where Bytes.Element == UInt8 {
        var events: [SSEEvent] = []
        for byte in bytes {
            if atStart {
                // A leading UTF-8 byte order mark is not part of the first line.
                if line.count < 3, byte == [0xEF, 0xBB, 0xBF][line.count] {
                    line.append(byte)
                    if line.count == 3 { line.removeAll(); atStart = false }
                    continue
                }
                atStart = false
            }
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\r"):
                afterCR = true
                try endLine(into: &events)
            case UInt8(ascii: "\n"):
                try endLine(into: &events)
            default:
                guard line.count < maxLineBytes else {
                    throw SSEParserError.lineTooLong(line: lineNumber, limit: maxLineBytes)
                }
                line.append(byte)
            }
        }
        return events
    }

    /// Declares the end of the stream. Throws `incompleteEvent` if an event was begun but never ended
    /// by a blank line (the standard discards it; a caller should know its stream was cut short).
    public mutating func finish() throws {
        if atStart && !line.isEmpty {
            // Only part of a byte order mark arrived: that is content, not a mark.
            atStart = false
        }
        if !line.isEmpty || sawFieldSinceDispatch {
            throw SSEParserError.incompleteEvent(line: lineNumber)
        }
    }

    private mutating func endLine(into events: inout [SSEEvent]) throws {
        defer {
            line.removeAll(keepingCapacity: true)
            lineNumber += 1
        }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line.first == UInt8(ascii: ":") {
            return  // a comment, often sent as a keep-alive
        }
        sawFieldSinceDispatch = true
        let name: String
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: line[..<colon], as: UTF8.self)
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = String(decoding: line, as: UTF8.self)
            value = []
        }
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case "data":
            data += text + "\n"
            hasData = true
        case "event":
            eventType = text
        case "id":
            if !value.contains(0) { lastEventID = text }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retryMilliseconds = Int(text)
            }
        default:
            break  // unknown fields are ignored, as the standard says
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        defer {
            data = ""
            hasData = false
            eventType = nil
            sawFieldSinceDispatch = false
        }
        guard hasData else { return }
        if data.hasSuffix("\n") { data.removeLast() }
        events.append(SSEEvent(event: eventType.flatMap { $0.isEmpty ? nil : $0 }, data: data, id: lastEventID))
    }
}
