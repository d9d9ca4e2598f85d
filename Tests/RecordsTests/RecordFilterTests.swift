import CommandLineTool
import Foundation
import Testing
import Records

@Suite struct RecordFilterTests {
    /// Runs a filter that doubles `x` and fails on records without it; returns status, output lines, stderr lines.
    func runDoubler(input: String, policy: ErrorPolicy, extraPaths: [String] = []) throws -> (Int32, [JSONObject], [String]) {
        let inPath = try temporaryFile(input)
        let outPath = try temporaryFile("")
        defer {
            try? FileManager.default.removeItem(atPath: inPath)
            try? FileManager.default.removeItem(atPath: outPath)
        }
        var messages: [String] = []
        let filter = RecordFilter(tool: "doubler", options: RecordFilterOptions(inputs: extraPaths + [inPath], onError: policy),
                                  writer: try JSONLWriter(path: outPath),
                                  diagnostics: Diagnostics(tool: "doubler") { messages.append($0) })
        let status = filter.run { record, _, emit in
            guard let x = record["x"]?.double else { throw RecordError("missing numeric field 'x'") }
            var out = record
            out["x2"] = .double(2 * x)
            try emit(out)
        } finish: { emit in
            try emit(["summary": true])
        }
        let lines = try String(contentsOfFile: outPath, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(JSONParser.parse(String($0)).object) }
        return (status, objects, messages.map { $0.replacingOccurrences(of: inPath, with: "IN") })
    }

    @Test func allGoodIsStatusZeroAndPassesFieldsThroughInOrder() throws {
        let (status, out, messages) = try runDoubler(input: "{\"id\":\"a\",\"x\":1,\"z\":null}\n", policy: .mark)
        #expect(status == 0)
        #expect(messages.isEmpty)
        #expect(out[0].keys == ["id", "x", "z", "x2"])
        #expect(out[1] == ["summary": true])
    }

    @Test func markPassesBadRecordsAndMalformedLinesOn() throws {
        let (status, out, messages) = try runDoubler(input: "{\"x\":1}\n{\"y\":2}\nnot json\n", policy: .mark)
        #expect(status == 1)
        #expect(out.count == 4)
        #expect(out[1] == ["y": 2, "error": "missing numeric field 'x'"])
        #expect(out[2]["line"] == 3)
        #expect(out[2]["raw"] == "not json")
        #expect(out[2]["source"]?.string?.hasSuffix(".jsonl") == true)
        #expect(out[2]["error"]?.string?.contains("column 1") == true)
        #expect(messages == ["doubler: error: missing numeric field 'x' (IN:line 2)",
                             "doubler: error: invalid JSON at column 1: invalid literal, expected 'null' (IN:line 3)"])
    }

    @Test func skipDropsBadRecords() throws {
        let (status, out, messages) = try runDoubler(input: "{\"x\":1}\n{\"y\":2}\n", policy: .skip)
        #expect(status == 1)
        #expect(out.count == 2)
        #expect(messages.count == 1)
    }

    @Test func failStopsWithStatusTwo() throws {
        let (status, out, _) = try runDoubler(input: "{\"x\":1}\n{\"y\":2}\n{\"x\":3}\n", policy: .fail)
        #expect(status == 2)
        #expect(out.count == 1)
    }

    @Test func missingInputIsStatusTwoButOthersAreRead() throws {
        let (status, out, messages) = try runDoubler(input: "{\"x\":1}\n", policy: .mark, extraPaths: ["/nonexistent.jsonl"])
        #expect(status == 2)
        #expect(out.count == 2)
        #expect(messages.first?.hasPrefix("doubler: error: /nonexistent.jsonl: cannot open") == true)
    }

    @Test func emptyInputIsFine() throws {
        let (status, out, _) = try runDoubler(input: "", policy: .mark)
        #expect(status == 0)
        #expect(out == [["summary": true]])
    }

    @Test func closedPipeEndsQuietlyWithStatusZero() throws {
        var lines = ""
        for i in 0..<2000 { lines += "{\"x\":\(i),\"pad\":\"\(String(repeating: "p", count: 100))\"}\n" }
        let inPath = try temporaryFile(lines)
        defer { try? FileManager.default.removeItem(atPath: inPath) }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])  // nobody reads
        signal(SIGPIPE, SIG_IGN)
        var messages: [String] = []
        let filter = RecordFilter(tool: "t", options: RecordFilterOptions(inputs: [inPath]),
                                  writer: JSONLWriter(fileDescriptor: fds[1], ownsDescriptor: true),
                                  diagnostics: Diagnostics(tool: "t") { messages.append($0) })
        let status = filter.run { record, _, emit in try emit(record) }
        #expect(status == 0)
        #expect(messages.isEmpty)
    }
}
