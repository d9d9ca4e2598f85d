import Foundation
import HTTPClient
import Records
import TestSupport
import Testing

/// Issue 21, item 2: `gemma-infer serve` and `judge` export spans over OTLP/HTTP to a real receiver
/// (scripts/otlp-receiver, which decodes with the official opentelemetry-proto package), with the
/// GenAI attributes; the traffic log names each request's span, and the judge's span of a record
/// is that span's child, so a score sits in its generation's trace.
@Suite(.serialized) struct OpenTelemetryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The receiver as a child process on a port the kernel picks, writing spans to `output`.
    final class Receiver {
        let process = Process()
        let port: Int
        let output: String

        init(output: String) throws {
            self.output = output
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", OpenTelemetryTests.root + "/scripts/otlp-receiver", "--port", "0", "-o", output]
            port = try startListening(process, name: "scripts/otlp-receiver (scripts/setup installs opentelemetry-proto)",
                                      patience: 120)
        }

        func spans() throws -> [JSONObject] {
            guard let text = try? String(contentsOfFile: output, encoding: .utf8) else { return [] }
            return try text.split(separator: "\n").map { try #require(try JSONParser.parse(String($0)).object) }
        }

        deinit {
            process.terminate()
            process.waitUntilExit()
        }
    }

    static let clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpan = "00f067aa0ba902b7"

    @Test func servedRequestsAndTheirJudgementsShareATrace() async throws {
        let scratch = try TemporaryDirectory()
        let receiver = try Receiver(output: scratch.file("spans.jsonl"))
        let otel = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)"]
        let server = try ServeProcess(model: try TinyServingModel.path(), environment: otel)

        // One chat request inside a client's trace, one streamed completion whose malformed
        // traceparent is ignored: it starts a trace of its own.
        let chat = HTTPRequest.postJSON(
            url: server.baseURL + "/chat/completions",
            body: Array(#"{"messages":[{"role":"user","content":"the cat"}],"max_tokens":4,"temperature":0}"#.utf8),
            headers: [("traceparent", "00-\(Self.clientTrace)-\(Self.clientSpan)-01")], timeout: 300)
        let completion = HTTPRequest.postJSON(url: server.baseURL + "/completions",
                                              body: Array(#"{"prompt":"say hi","max_tokens":3,"stream":true}"#.utf8),
                                              headers: [("traceparent", "00-not-a-trace-01")], timeout: 300)
        for request in [chat, completion] {
            let response = try await offCooperativePool { try HTTPClient().perform(request) }
            #expect(response.status == 200, "\(response.text)")
        }
        server.stop()  // a graceful stop exports the spans still queued
        let logText = try String(contentsOfFile: server.logPath, encoding: .utf8)
        let logged = try logText.split(separator: "\n").map { try #require(try JSONParser.parse(String($0)).object) }
        try #require(logged.count == 2)

        let spans = try receiver.spans()
        let served = spans.filter { $0["service"]?.string == "gemma-infer" }
        try #require(served.count == 2, "spans: \(spans)")
        for (record, operation) in zip(logged, ["chat", "text_completion"]) {
            let span = try #require(served.first { $0["span_id"]?.string == record["span_id"]?.string },
                                    "no span for \(record["id"] ?? .null) (trace_id \(record["trace_id"] ?? .null))")
            #expect(span["trace_id"]?.string == record["trace_id"]?.string)
            #expect(span["kind"]?.string == "SPAN_KIND_SERVER")
            let model = try #require(record["model"]?.string)
            #expect(span["name"]?.string == "\(operation) \(model)")
            let attributes = try #require(span["attributes"]?.object)
            #expect(attributes["gen_ai.operation.name"]?.string == operation)
            #expect(attributes["gen_ai.request.model"]?.string == model)
            #expect(attributes["gen_ai.response.id"]?.string == record["id"]?.string)
            #expect(attributes["gen_ai.usage.input_tokens"]?.int == record["prompt_tokens"]?.int)
            #expect(attributes["gen_ai.usage.output_tokens"]?.int == record["completion_tokens"]?.int)
            #expect(attributes["gen_ai.response.finish_reasons"]?.array?.first?.string == record["finish_reason"]?.string)
            let ttft = try #require(attributes["gen_ai.server.time_to_first_token"]?.double)
            #expect(abs(ttft - (record["ttft_ms"]?.double ?? -1) / 1000) < 1e-6)
            let start = try #require(span["start_ns"]?.double), end = try #require(span["end_ns"]?.double)
            #expect(end - start >= (record["latency_ms"]?.double ?? 0) * 1e6 * 0.999, "the span covers the generation")
        }
        // The chat request joined the client's trace; the completion began its own.
        #expect(logged[0]["trace_id"]?.string == Self.clientTrace)
        #expect(served.first { $0["trace_id"]?.string == Self.clientTrace }?["parent_span_id"]?.string == Self.clientSpan)
        #expect(logged[1]["trace_id"]?.string != Self.clientTrace)
        #expect(served.first { $0["span_id"]?.string == logged[1]["span_id"]?.string }?["parent_span_id"]?.string == "")

        // judge over the log: one span per record, the child of the request's span.
        // A record whose ids are malformed gets a span that starts a trace.
        let stray = #"{"id":"stray","answer":"hi","trace_id":"zz","span_id":"0000000000000000"}"#
        let judged = try await runTool("judge", ["--check", "no_pii"], stdin: logText + stray + "\n", environment: otel)
        #expect(judged.status == 0, "\(judged.stderr)")
        let judgements = try receiver.spans().filter { $0["service"]?.string == "judge" }
        try #require(judgements.count == 3, "judge spans: \(judgements)")
        let strayed = try #require(judgements.first { $0["attributes"]?["gen_ai.response.id"]?.string == "stray" })
        #expect(strayed["parent_span_id"]?.string == "")
        #expect(strayed["trace_id"]?.string?.count == 32)
        for record in logged {
            let span = try #require(judgements.first { $0["parent_span_id"]?.string == record["span_id"]?.string })
            #expect(span["trace_id"]?.string == record["trace_id"]?.string)
            #expect(span["name"]?.string == "evaluate no_pii")
            let attributes = try #require(span["attributes"]?.object)
            #expect(attributes["gen_ai.evaluation.name"]?.string == "no_pii")
            #expect(attributes["gen_ai.evaluation.score.value"]?.double == 1)
            #expect(attributes["gen_ai.evaluation.score.label"]?.string == "pass")
            #expect(attributes["gen_ai.response.id"]?.string == record["id"]?.string)
            let event = try #require(span["events"]?.array?.first?.object)
            #expect(event["name"]?.string == "gen_ai.evaluation.result")
            #expect(event["attributes"]?["gen_ai.evaluation.score.value"]?.double == 1)
        }
    }

    @Test func withoutAnEndpointNothingIsTracedOrLogged() async throws {
        let server = try ServeProcess(model: try TinyServingModel.path(), environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": ""])
        let request = HTTPRequest.postJSON(url: server.baseURL + "/completions",
                                           body: Array(#"{"prompt":"say hi","max_tokens":2}"#.utf8), timeout: 300)
        #expect(try await offCooperativePool { try HTTPClient().perform(request) }.status == 200)
        server.stop()
        let record = try #require(try JSONParser.parse(try String(contentsOfFile: server.logPath, encoding: .utf8)
            .split(separator: "\n")[0].description).object)
        #expect(record["trace_id"] == nil && record["span_id"] == nil)
    }

    @Test func anUnsupportedProtocolIsAClearStartError() async throws {
        let env = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]
        let judged = try await runTool("judge", ["--check", "no_pii"], stdin: #"{"answer":"hi"}"# + "\n", environment: env)
        #expect(judged.status == 2)
        #expect(judged.stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), "\(judged.stderr)")
    }
}
