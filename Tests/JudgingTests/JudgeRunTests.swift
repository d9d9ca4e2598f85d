import Foundation
import HTTPClient
import Records
import TestSupport
import Testing
@testable import Judging

/// Counts requests per record so the loopback server can fail each record's first attempt.
final class AttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int: Int] = [:]
    func next(_ id: Int) -> Int { lock.withLock { counts[id, default: 0] += 1; return counts[id] ?? 0 } }
    func count(_ id: Int) -> Int { lock.withLock { counts[id] ?? 0 } }
}

/// The number n of the record whose question "qn" a request judges.
private func recordNumber(_ request: RecordedRequest) -> Int {
    guard let range = request.text.range(of: #"Question: q[0-9]+"#, options: .regularExpression) else { return -1 }
    return Int(request.text[range].dropFirst("Question: q".count)) ?? -1
}

/// Whole runs of the filter: faults, concurrency, order, exit status, calibration.
@Suite struct JudgeRunTests {
    /// Every fault once per record, then success: 429 with Retry-After, 500, a 200 that is not JSON, a
    /// dropped connection, a timeout; plus fenced and prose successes. One at a time and four at once,
    /// every record must end scored, in input order, none lost and none duplicated.
    @Test(arguments: [1, 4]) func faultsThenSuccessKeepEveryRecordInOrder(jobs: Int) throws {
        let attempts = AttemptCounter()
        let server = try LoopbackHTTPServer(handler: { request in
            let n = recordNumber(request)
            let attempt = attempts.next(n)
            let answer = chatCompletion("```json\n{\"score\": \(n % 2), \"explanation\": \"record \(n)\"}\n```")
            guard attempt == 1 else { return .json(answer) }
            switch n % 7 {
            case 0: return .status(429, headers: [("Retry-After", "0")])
            case 1: return .status(500)
            case 2: return .text("<html>bad gateway</html>")
            case 3: return .hangUp(delay: 0)
            case 4: return .json(answer, delay: 30)  // far longer than the 3 s timeout (stop() cuts it short)
            case 5: return .json(chatCompletion("Score: \(n % 2)"))
            default: return .json(answer)
            }
        })
        defer { server.stop() }
        // 3 s: a healthy reply on a loaded machine must not time out, or it is retried once more.
        let backend = OpenAIBackendTests.backend(server, timeout: 3)
        let judge = try OpenAIBackendTests.bankingJudge(backend)
        let lines = (0..<21).map { #"{"id": "r\#($0)", "question": "q\#($0)", "answer": "a"}"# }
        let result = try runJudge(judge, lines: lines, jobs: jobs)
        #expect(result.status == 0)
        #expect(result.records.map { $0["id"]?.string ?? "" } == (0..<21).map { "r\($0)" })
        for (n, record) in result.records.enumerated() {
            let verdict = try #require(record.verdict("restrict_to_banking"))
            #expect(verdict["status"] == "ok", "record \(n): \(verdict)")
            #expect(verdict["score"] == JSONValue.int(Int64(n % 2)))
        }
        // Five faulty kinds x 3 records retried at least once (a reply slowed by the machine's load
        // past the timeout is retried once more: the outcome above is what must not change).
        #expect(server.requests.count >= 21 + 15)
        for n in 0..<21 { #expect(attempts.count(n) >= (n % 7 <= 4 ? 2 : 1), "record \(n)") }
    }

    @Test func recordsThatFailAreMarkedAndCounted() throws {
        let server = try LoopbackHTTPServer(handler: { request in
            switch recordNumber(request) {
            case 0: return .json(chatCompletion("{\"score\": 1}"))
            case 1: return .json(chatCompletion("no idea"))
            default: return .status(503)
            }
        })
        defer { server.stop() }
        let judge = try OpenAIBackendTests.bankingJudge(OpenAIBackendTests.backend(server))
        let lines = [#"{"question": "q0", "answer": "a"}"#, #"{"question": "q1", "answer": "a"}"#,
                     #"{"question": "q2", "answer": "a"}"#, "garbage", #"{"question": "q3"}"#]
        let result = try runJudge(judge, lines: lines, jobs: 3)
        #expect(result.status == 1)
        #expect(result.records.count == 5)
        let statuses = result.records.map { $0.verdict("restrict_to_banking")?["status"]?.string ?? ($0["error"] != nil ? "malformed" : "?") }
        #expect(statuses == ["ok", "parse_error", "error", "malformed", "error"])
        #expect(result.records[1].verdict("restrict_to_banking")?["raw"] == "no idea")
        #expect(result.messages.contains { $0.contains("parse_error") && $0.contains("line 2") })
        #expect(result.messages.contains { $0.contains("the record has no field \"answer\"") && $0.contains("line 5") })
        // The summary counts every line: the malformed one too, beside the verdicts.
        #expect(result.messages.last?.hasSuffix("restrict_to_banking: ok 1, parse_error 1, error 2, malformed line 1") == true,
                "\(result.messages.last ?? "")")
    }

    /// Pairwise records are judged in both orders; the run reports how often the orders agreed, on
    /// stderr and in the calibration report.
    @Test func pairwiseConsistencyIsReported() throws {
        let server = try OpenAIBackendTests.pairwiseServer()
        defer { server.stop() }
        let lines = [#"{"id": "p0", "question": "q", "answer_a": "short", "answer_b": "long", "label": "a"}"#,
                     #"{"id": "p1", "question": "q", "answer_a": "bad", "answer_b": "good", "label": "b"}"#,
                     #"{"id": "p2", "question": "q", "answer_a": "good", "answer_b": "bad", "label": "a"}"#]
        let judge = try Judge(config: OpenAIBackendTests.pairwiseConfig, backend: OpenAIBackendTests.backend(server))
        let result = try runJudge(judge, lines: lines, jobs: 2)
        #expect(result.status == 0)
        #expect(result.records.map { $0["id"]?.string } == ["p0", "p1", "p2"])
        let verdicts = result.records.map { $0.verdict("preference") ?? [:] }
        #expect(verdicts.map { $0["winner"]?.string } == ["tie", "b", "a"])
        #expect(verdicts.map { $0["consistent"]?.bool } == [false, true, true])
        #expect(verdicts[0]["orders"] == ["a", "b"])
        #expect(server.requests.count == 6)
        #expect(result.messages.contains { $0.contains("pairwise orders agreed on 2 of 3 (consistency 0.667)") }, "\(result.messages)")

        let calibrated = try runJudge(try Judge(config: OpenAIBackendTests.pairwiseConfig, backend: OpenAIBackendTests.backend(server)),
                                      lines: lines, calibrate: "label")
        let report = try #require(calibrated.records.first?["calibration"]?.object)
        #expect(report["pairwise_consistency"]?.double.map { abs($0 - 2.0 / 3) < 1e-9 } == true)
        #expect(report["compared"] == 3)
    }

    @Test func severalJudgesEachAddTheirMetric() throws {
        let server = try LoopbackHTTPServer(handler: { _ in .json(chatCompletion(#"{"score": 5}"#)) })
        defer { server.stop() }
        let relevance = try Judge(config: try Fixture.judge("answer-relevance.json"), backend: OpenAIBackendTests.backend(server))
        let noPII = try Judge(config: JudgeConfig(name: "no_pii", gradingType: .check, check: try Check(flag: "no_pii")), backend: nil)
        let first = try runJudge(relevance, lines: [#"{"question": "q", "answer": "call 020 7946 0958"}"#])
        let second = try runJudge(noPII, lines: first.records.map { JSONSerializer.string(.object($0)) })
        let record = try #require(second.records.first)
        #expect(record.verdict("answer_relevance")?["score"] == 5)
        #expect(record.verdict("answer_relevance")?["pass"] == true)
        #expect(record.verdict("no_pii")?["score"] == 0)
    }

    @Test func calibrationReportInsteadOfRecords() throws {
        // The judge says 1 to everything: accuracy is the share of label 1.
        let server = try LoopbackHTTPServer(handler: { _ in .json(chatCompletion("1")) })
        defer { server.stop() }
        let judge = try OpenAIBackendTests.bankingJudge(OpenAIBackendTests.backend(server))
        let lines = try String(contentsOfFile: try Fixture.path("judge-eval-head.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init) + [#"{"question": "q", "answer": "a"}"#]
        let result = try runJudge(judge, lines: lines, calibrate: "label")
        #expect(result.status == 0)
        #expect(result.records.count == 1)
        let report = try #require(result.records.first?["calibration"]?.object)
        #expect(report["metric"] == "restrict_to_banking")
        #expect(report["compared"] == 6)
        #expect(report["skipped"]?["no label"] == 1)
        #expect(report["accuracy"] == .double(0.5))
        #expect(report["cohen_kappa"] == .double(0))
        #expect(report["confusion"]?["0"]?["1"] == 3)
        #expect(report["majority_baseline"]?["accuracy"] == .double(0.5))
    }
}
