import Foundation
import Records
import TestSupport
import Testing

/// Issue 20, item 8: numbers and unknown fields pass through judge byte for byte: integers beyond
/// 2^63, 1e-400, 1e400, -0, strings with escapes (`\u00e9`, `\/`), and fields judge does not know.
@Suite struct NumberPassThroughTests {
    static let record = #"{"id":"n1","answer":"Your balance is shown in the app.","big":18446744073709551616,"#
        + #""beyond_int64":-9223372036854775809,"tiny":1e-400,"huge":1e400,"minus_huge":-1E+400,"neg_zero":-0,"#
        + #""unknown":{"a":[1.50,2E+3,-0.0],"b":"x"},"escaped":"caf\u00e9 \/ \u0041"}"#

    @Test func judgeKeepsEveryNumberAsWritten() throws {
        let run = try runTool("judge", ["--check", "no_pii"], stdin: Self.record + "\n")
        #expect(run.status == 0, "\(run.stderr)")
        let line = run.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix(String(Self.record.dropLast()) + ","), "\(line)")
    }
}
