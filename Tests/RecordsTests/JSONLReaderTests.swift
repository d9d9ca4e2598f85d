import Foundation
import Testing
import Records

/// A temporary file holding `text`, removed by the caller.
func temporaryFile(_ text: String, suffix: String = ".jsonl") throws -> String {
    let path = NSTemporaryDirectory() + "records-\(UUID().uuidString)\(suffix)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct JSONLReaderTests {
    @Test func readsRecordsWithLocationsAndSkipsBlankLines() throws {
        let path = try temporaryFile("{\"a\":1}\n\n  \n{\"a\":2}\r\n{\"a\":3}")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var seen: [(Int64, Int)] = []
        for item in JSONLReader(paths: [path]) {
            guard case let .record(object, location) = item, case let .number(n)? = object["a"], let a = n.int64 else {
                Issue.record("unexpected \(item)")
                continue
            }
            #expect(location.source == path)
            seen.append((a, location.line))
        }
        #expect(seen.map(\.0) == [1, 2, 3])
        #expect(seen.map(\.1) == [1, 4, 5])
    }

    @Test func malformedLinesAreItemsNotThrows() throws {
        let path = try temporaryFile("{\"a\":1}\nnot json\n[1,2]\n{\"a\":\n{\"a\":2}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let items = Array(JSONLReader(paths: [path]))
        #expect(items.count == 5)
        guard case let .malformed(raw, reason, location) = items[1] else {
            Issue.record("expected malformed, got \(items[1])")
            return
        }
        #expect(raw == "not json")
        #expect(location.line == 2)
        #expect(reason.contains("column 1"))
        guard case let .malformed(_, reason2, _) = items[2] else { Issue.record("expected malformed"); return }
        #expect(reason2.contains("expected a JSON object, found array"))
        guard case .malformed = items[3], case .record = items[4] else { Issue.record("bad items"); return }
    }

    @Test func unreadableInputIsReportedAndOthersAreRead() throws {
        let path = try temporaryFile("{\"a\":1}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let items = Array(JSONLReader(paths: ["/nonexistent/x.jsonl", path]))
        #expect(items.count == 2)
        guard case let .unreadable(source, reason) = items[0] else { Issue.record("expected unreadable"); return }
        #expect(source == "/nonexistent/x.jsonl")
        #expect(reason.contains("No such file"))
    }

    @Test func longLinesAcrossBufferBoundaries() throws {
        let long = String(repeating: "x", count: 700_000)
        var text = ""
        for i in 0..<3 { text += "{\"i\":\(i),\"s\":\"\(long)\"}\n" }
        let path = try temporaryFile(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let records = JSONLReader(paths: [path]).compactMap { item -> JSONObject? in
            if case let .record(o, _) = item { return o }
            return nil
        }
        #expect(records.count == 3)
        #expect(records[2]["s"]?.string?.count == 700_000)
    }

    /// Issue 20, item 6: a line over the limit is read through but not kept: it becomes a
    /// malformed item saying its length (nothing of it echoed), and the lines around it still read,
    /// the last line without a newline included.
    @Test func linesOverTheLimitAreSkippedUnread() throws {
        let long = "{\"s\":\"" + String(repeating: "x", count: 300_000) + "\"}"
        let text = "{\"n\":1}\n" + long + "\n{\"n\":3}\n" + long
        let path = try temporaryFile(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = JSONLReader(fileDescriptor: fd, name: "big", maxLineBytes: 100_000)
        let items = Array(reader)
        #expect(items.count == 4)
        for (index, line) in [1, 3].enumerated() {
            guard case let .record(o, l) = items[index * 2] else { Issue.record("\(items[index * 2])"); continue }
            #expect(o["n"]?.int == line && l.line == line)
        }
        for index in [1, 3] {
            guard case let .malformed(raw, reason, l) = items[index] else { Issue.record("\(items[index])"); continue }
            #expect(raw.isEmpty && l.line == index + 1)
            #expect(reason == "line of \(long.utf8.count) bytes is longer than the limit of 100000 bytes; skipped unread")
        }
        #expect(JSONLReader.maxLineBytes == 64 << 20)
    }

    @Test func yieldsEachLineAsSoonAsItArrivesOnAPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let reader = JSONLReader(fileDescriptor: fds[0], name: "pipe")
        let line = "{\"n\":1}\n"
        _ = line.withCString { write(fds[1], $0, strlen($0)) }
        // The writer is still open: the reader must return the first record without waiting for EOF.
        guard case let .record(first, location)? = reader.next() else {
            Issue.record("no record")
            return
        }
        #expect(first["n"] == 1)
        #expect(location.description == "pipe:line 1")
        _ = "{\"n\":2}".withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        guard case let .record(second, _)? = reader.next() else { Issue.record("no second record"); return }
        #expect(second["n"] == 2)
        #expect(reader.next() == nil)
    }
}

extension JSONLItem: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .record(o, l): return "record \(o) at \(l)"
        case let .malformed(raw, reason, l): return "malformed \(raw) (\(reason)) at \(l)"
        case let .unreadable(s, r): return "unreadable \(s): \(r)"
        }
    }
}

extension Optional where Wrapped == JSONLItem {
    static func == (lhs: JSONLItem?, rhs: JSONLItem?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): return true
        default: return false
        }
    }
}
