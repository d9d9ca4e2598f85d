import Foundation
import Records
import TestSupport
import Testing
@testable import Serving

/// The traffic log finds answers again for feedback (across restarts) and survives a cut last line.
@Suite struct TrafficLogTests {
    @Test func answersAreFoundAgainAndACutLastLineIsClosed() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("traffic.jsonl")
        let answer = #"{"id":"chatcmpl-1","question":"q","answer":"a","ts":"2026-12-05T10:00:00Z"}"#
        let feedback = #"{"type":"feedback","id":"chatcmpl-1","answer":"a"}"#
        try (answer + "\n" + feedback + "\n" + #"{"id":"chatcmpl-cut","answer":"#).write(toFile: path, atomically: true, encoding: .utf8)
        let log = try TrafficLog(path: path)
        #expect(log.answer(id: "chatcmpl-1")?["question"] == "q")
        #expect(log.answer(id: "chatcmpl-cut") == nil, "a cut line is no answer")
        try log.append(["id": "chatcmpl-2", "question": "q2", "answer": "b"])
        try log.append(["type": "rejected", "id": "rej-1", "status": 400])
        #expect(log.answer(id: "chatcmpl-2")?["answer"] == "b")
        #expect(log.answer(id: "rej-1") == nil, "only answers can be rated")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6 && lines[5].isEmpty)
        #expect(lines[3] == #"{"id":"chatcmpl-2","question":"q2","answer":"b"}"#, "the next record starts its own line")
        // Opened again (a restart), the log indexes what the last run wrote.
        let reopened = try TrafficLog(path: path)
        #expect(reopened.answer(id: "chatcmpl-2")?["question"] == "q2")
        #expect(reopened.answer(id: "chatcmpl-1")?["answer"] == "a")
    }
}
