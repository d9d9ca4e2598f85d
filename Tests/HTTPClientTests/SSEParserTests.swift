import TestSupport
import Testing

@Suite struct SSEParserTests {
    private func parse(_ text: String, pieceSize: Int? = nil) throws -> [SSEEvent] {
        var parser = SSEParser()
        let bytes = Array(text.utf8)
        var events: [SSEEvent] = []
        let step = pieceSize ?? max(1, bytes.count)
        var offset = 0
        while offset < bytes.count {
            events += try parser.feed(bytes[offset..<min(offset + step, bytes.count)])
            offset += step
        }
        try parser.finish()
        return events
    }

    @Test func openAIStream() throws {
        let stream = """
            data: {"choices":[{"delta":{"content":"Hi"}}]}

            data: {"choices":[{"delta":{"content":"!"}}]}

            data: [DONE]


            """
        let events = try parse(stream)
        #expect(events.count == 3)
        #expect(events[0].data == #"{"choices":[{"delta":{"content":"Hi"}}]}"#)
        #expect(events[2].isDone)
        #expect(!events[0].isDone)
    }

    /// Every split point, down to single bytes, gives the same events (CRLF split across pieces too).
    @Test func independentOfPieceBoundaries() throws {
        let stream = "event: delta\r\ndata: a\r\ndata: b\r\nid: 7\r\n\r\n: keep-alive\r\ndata: é\r\n\r\n"
        let whole = try parse(stream)
        #expect(whole == [SSEEvent(event: "delta", data: "a\nb", id: "7"), SSEEvent(data: "é", id: "7")])
        for size in 1...9 {
            #expect(try parse(stream, pieceSize: size) == whole, "pieces of \(size) bytes")
        }
    }

    @Test func lineEndingsCRAndLFAndCRLF() throws {
        #expect(try parse("data: x\r\rdata: y\n\ndata: z\r\n\r\n").map(\.data) == ["x", "y", "z"])
    }

    @Test func fieldSyntaxEdgeCases() throws {
        // No space after the colon; two spaces keep one; a bare "data" line is an empty data line.
        let events = try parse("data:tight\n\ndata:  spaced\n\ndata\ndata\n\n")
        #expect(events.map(\.data) == ["tight", " spaced", "\n"])
    }

    @Test func commentsAndUnknownFieldsAreIgnored() throws {
        let events = try parse(": ping\n\nfoo: bar\nweird\n\n:only comment\ndata: real\n\n")
        #expect(events.map(\.data) == ["real"])
    }

    @Test func eventWithoutDataIsNotDispatched() throws {
        #expect(try parse("event: ping\n\n").isEmpty)
        #expect(try parse("id: 3\n\ndata: x\n\n") == [SSEEvent(data: "x", id: "3")])
    }

    @Test func byteOrderMarkIsSkippedOnlyAtTheStart() throws {
        var parser = SSEParser()
        let events = try parser.feed([0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8))
        #expect(events == [SSEEvent(data: "x")])
    }

    @Test func retryFieldNeedsDigits() throws {
        var parser = SSEParser()
        _ = try parser.feed(Array("retry: 1500\n\nretry: soon\n\nretry: 2x\n\n".utf8))
        #expect(parser.retryMilliseconds == 1500)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        var parser = SSEParser()
        let events = try parser.feed(Array("data: a".utf8) + [0xFF, 0xC3] + Array("b\n\n".utf8))
        #expect(events.count == 1)
        #expect(events.first?.data.hasPrefix("a\u{FFFD}") == true)
        #expect(events.first?.data.hasSuffix("b") == true)
    }

    @Test func truncatedStreamIsReported() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: complete\n\ndata: partial\n".utf8)).count == 1)
        #expect(throws: SSEParserError.incompleteEvent(line: 4)) { try parser.finish() }

        var midLine = SSEParser()
        _ = try midLine.feed(Array("data: cut in the mid".utf8))
        #expect(throws: SSEParserError.self) { try midLine.finish() }
    }

    @Test func overlongLineIsAnError() throws {
        var parser = SSEParser(maxLineBytes: 16)
        #expect(throws: SSEParserError.lineTooLong(line: 2, limit: 16)) {
            try parser.feed(Array("data: ok\n\(String(repeating: "x", count: 40))\n".utf8))
        }
    }

    @Test func notAnEventStreamGivesNoEvents() throws {
        // An HTML error page served where a stream was expected: no field is "data", so no events,
        // and the unfinished last line is reported at the end.
        var parser = SSEParser()
        #expect(try parser.feed(Array("<html><body>502 Bad Gateway</body></html>".utf8)).isEmpty)
        #expect(throws: SSEParserError.self) { try parser.finish() }
    }
}
