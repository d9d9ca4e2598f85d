import Foundation
@testable import JudgeCLI
import TestSupport
import Testing

/// Issue 22, item 4: judge's progress line (records done, rate, share and time left for files).
@Suite struct JudgeProgressTests {
    @Test func filesAreCountedAndTheLineShowsShareRateAndETA() throws {
        let dir = try TemporaryDirectory()
        let a = dir.file("a.jsonl"), b = dir.file("b.jsonl")
        try "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "{\"x\":4}\n{\"x\":5}".write(toFile: b, atomically: true, encoding: .utf8)  // no final newline
        let progress = JudgeProgress(inputs: [a, b])
        #expect(JudgeProgress.lineCount([a, b]) == 5)
        #expect(JudgeProgress.lineCount([]) == nil)
        #expect(JudgeProgress.lineCount(["-"]) == nil)
        progress.advance()
        progress.advance()
        let line = progress.line(now: Date().addingTimeInterval(1))
        #expect(line.hasPrefix("records 2/5 (40%), "), "\(line)")
        #expect(line.contains(" rec/s, ETA "), "\(line)")
    }

    @Test func stdinHasNoTotalAndNoETA() {
        let progress = JudgeProgress(inputs: [])
        progress.advance()
        let line = progress.line(now: Date().addingTimeInterval(2))
        #expect(line.hasPrefix("records 1, "), "\(line)")
        #expect(!line.contains("ETA"))
    }

    @Test func durations() {
        #expect(JudgeProgress.duration(5) == "5s")
        #expect(JudgeProgress.duration(125) == "2m05s")
        #expect(JudgeProgress.duration(3725) == "1h02m")
    }
}
