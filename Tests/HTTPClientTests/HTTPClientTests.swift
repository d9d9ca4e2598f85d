import Foundation
import HTTPClient
import TestSupport
import Testing

/// A list several threads append to: the waits a client would have slept (so retry tests run without
/// real delays), or outcomes reported from another thread.
final class LockedList<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var elements: [Element] = []
    var all: [Element] { lock.withLock { elements } }
    func append(_ element: Element) { lock.withLock { elements.append(element) } }
}

/// The client against a real HTTP server on the loopback interface.
@Suite struct HTTPClientTests {
    let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.001, maxDelay: 0.01)

    @Test func plainGet() throws {
        let server = try LoopbackHTTPServer(replies: [.text("hello", headers: [("X-Request-Id", "r-1")])])
        defer { server.stop() }
        let response = try HTTPClient().send(HTTPRequest(url: server.url("/v1/models?limit=2")))
        #expect(response.status == 200)
        #expect(response.text == "hello")
        #expect(response.header("x-request-id") == "r-1")
        #expect(response.header("CONTENT-TYPE") == "text/plain; charset=utf-8")
        let seen = server.requests
        #expect(seen.count == 1)
        #expect(seen.first?.method == "GET")
        #expect(seen.first?.path == "/v1/models?limit=2")
        #expect(seen.first?.body.isEmpty == true)
    }

    @Test func postSendsHeadersAndBody() throws {
        let server = try LoopbackHTTPServer(replies: [.json(#"{"ok":true}"#, status: 201)])
        defer { server.stop() }
        let payload = Array(#"{"model":"gemma","messages":[]}"#.utf8)
        let request = HTTPRequest.postJSON(
            url: server.url("/v1/chat/completions"), body: payload, headers: [("Authorization", "Bearer sk-test")])
        let response = try HTTPClient().send(request)
        #expect(response.status == 201)
        #expect(response.text == #"{"ok":true}"#)
        let seen = try #require(server.requests.first)
        #expect(seen.method == "POST")
        #expect(seen.body == payload)
        #expect(seen.header("content-type") == "application/json")
        #expect(seen.header("Authorization") == "Bearer sk-test")
        #expect(seen.header("Content-Length") == String(payload.count))
        #expect(seen.header("Expect") == nil)
    }

    /// A large binary body with NUL bytes arrives intact (no string truncation, no 100-continue stall).
    @Test func largeBinaryBody() throws {
        let server = try LoopbackHTTPServer(replies: [.status(204)])
        defer { server.stop() }
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        _ = try HTTPClient().send(HTTPRequest(method: "PUT", url: server.url("/blob"), body: payload))
        let seen = try #require(server.requests.first)
        #expect(seen.method == "PUT")
        #expect(seen.body == payload)
    }

    /// Issue 20, item 6: a response body over the request's limit is not read whole: the transfer
    /// ends with an error saying the limit, which is not retried.
    @Test func aResponseBodyOverTheLimitIsAnError() throws {
        let big = String(repeating: "x", count: 300_000)
        let server = try LoopbackHTTPServer(replies: [.text(big), .text(big), .text("small")])
        defer { server.stop() }
        var request = HTTPRequest(url: server.url("/big"))
        request.maxResponseBytes = 100_000
        do {
            _ = try HTTPClient().send(request, retry: fastRetry)
            Issue.record("a 300 kB body was read under a 100 kB limit")
        } catch let error as HTTPError {
            #expect("\(error)".contains("larger than the limit of 100000 bytes"), "\(error)")
            guard case .transport(63, _, _) = error else { Issue.record("\(error)"); return }
        }
        #expect(server.requests.count == 1, "a too-large body is not retried")
        #expect(try HTTPClient().send(HTTPRequest(url: server.url("/big"))).text == big)
        #expect(HTTPRequest(url: "http://x").maxResponseBytes == 16 << 20)
    }

    @Test func chunkedRequestBody() throws {
        let server = try LoopbackHTTPServer(replies: [.status(200)])
        defer { server.stop() }
        let request = HTTPRequest(
            method: "POST", url: server.url("/upload"), headers: [("Transfer-Encoding", "chunked")],
            body: Array("streamed body".utf8))
        _ = try HTTPClient().send(request)
        let seen = try #require(server.requests.first)
        #expect(seen.header("Transfer-Encoding") == "chunked")
        #expect(seen.text == "streamed body")
    }

    @Test func otherMethods() throws {
        let server = try LoopbackHTTPServer(replies: [.status(204), .text("ignored body")])
        defer { server.stop() }
        let client = HTTPClient()
        _ = try client.send(HTTPRequest(method: "DELETE", url: server.url("/item/1")))
        let head = try client.send(HTTPRequest(method: "HEAD", url: server.url("/item/2")))
        #expect(head.body.isEmpty)
        #expect(server.requests.map(\.method) == ["DELETE", "HEAD"])
    }

    @Test func tooManyRequestsHonoursRetryAfter() throws {
        let server = try LoopbackHTTPServer(replies: [
            .status(429, headers: [("Retry-After", "7")]),
            .status(503, headers: [("Retry-After", "120")]),
            .json("{}"),
        ])
        defer { server.stop() }
        let sleeps = LockedList<Double>()
        let client = HTTPClient(sleep: { sleeps.append($0) })
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.001, maxDelay: 30)
        var reasons: [Int?] = []
        let response = try client.send(HTTPRequest(url: server.url("/")), retry: policy) { _, reason, _ in
            reasons.append(reason.statusCode)
        }
        #expect(response.status == 200)
        // 7 s as asked; 120 s capped at maxDelay.
        #expect(sleeps.all == [7, 30])
        #expect(reasons == [429, 503])
        #expect(server.requests.count == 3)
    }

    @Test func serverErrorsTwiceThenSuccess() throws {
        let server = try LoopbackHTTPServer(replies: [.text("boom", status: 500), .text("boom", status: 500), .json("[1]")])
        defer { server.stop() }
        var attempts: [Int] = []
        let response = try HTTPClient().send(HTTPRequest(url: server.url("/judge")), retry: fastRetry) {
            attempt, reason, delay in
            attempts.append(attempt)
            #expect(reason.statusCode == 500)
            #expect(delay >= 0 && delay <= 0.01)
        }
        #expect(response.text == "[1]")
        #expect(attempts == [1, 2])
        #expect(server.requests.count == 3)
    }

    @Test func timeoutThenSuccess() throws {
        // The timeout applies to the retry as well: 2 s, which a loaded machine's loopback reply
        // meets; the slow reply waits far longer (stop() cuts it short).
        let server = try LoopbackHTTPServer(replies: [.json(#""slow""#, delay: 60), .json(#""fast""#)])
        defer { server.stop() }
        let request = HTTPRequest(url: server.url("/slow"), timeout: 2)
        var reasons: [HTTPError] = []
        let response = try HTTPClient().send(request, retry: fastRetry) { _, reason, _ in reasons.append(reason) }
        #expect(response.text == #""fast""#)
        #expect(server.requests.count == 2)
        guard case let .timeout(url, seconds)? = reasons.first else {
            Issue.record("expected a timeout, got \(reasons)")
            return
        }
        #expect(url == request.url)
        #expect(seconds == 2)
    }

    @Test func singleAttemptTimeoutIsAnError() throws {
        let server = try LoopbackHTTPServer(replies: [.json("{}", delay: 5)])
        defer { server.stop() }
        #expect {
            try HTTPClient().send(HTTPRequest(url: server.url("/"), timeout: 0.2))
        } throws: { error in
            guard let error = error as? HTTPError, case .timeout = error else { return false }
            return error.description.contains("timed out") && error.description.contains(server.baseURL)
        }
    }

    @Test func connectionRefusedNamesTheURL() throws {
        let url = "http://127.0.0.1:\(try LoopbackHTTPServer.unusedPort())/hook"
        do {
            _ = try HTTPClient().send(HTTPRequest(method: "POST", url: url, body: Array("{}".utf8)))
            Issue.record("expected a transport error")
        } catch let error as HTTPError {
            guard case let .transport(code, message, errorURL) = error else {
                Issue.record("expected a transport error, got \(error)")
                return
            }
            #expect(code == 7)
            #expect(errorURL == url)
            #expect(message.contains("connect"))
            #expect(error.description.contains(url))
        }
    }

    @Test func retriesExhausted() throws {
        let server = try LoopbackHTTPServer(replies: [], fallback: .text("overloaded", status: 503))
        defer { server.stop() }
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0.001, maxDelay: 0.01)
        #expect {
            try HTTPClient().send(HTTPRequest(url: server.url("/")), retry: policy)
        } throws: { error in
            guard let error = error as? HTTPError, case let .retriesExhausted(attempts, last) = error,
                case let .status(code, body, _) = last
            else { return false }
            return attempts == 3 && code == 503 && body == "overloaded"
        }
        #expect(server.requests.count == 3)
    }

    @Test func deadReceiverExhaustsRetries() throws {
        let url = "http://127.0.0.1:\(try LoopbackHTTPServer.unusedPort())/hook"
        var attempts = 0
        #expect {
            try HTTPClient().send(HTTPRequest(url: url), retry: fastRetry) { _, _, _ in attempts += 1 }
        } throws: { error in
            guard let error = error as? HTTPError, case let .retriesExhausted(count, last) = error,
                case .transport(7, _, url) = last
            else { return false }
            return count == 4
        }
        #expect(attempts == 3)
    }

    @Test func clientErrorsAreNotRetried() throws {
        let server = try LoopbackHTTPServer(replies: [.json(#"{"error":"bad model"}"#, status: 400), .json("{}")])
        defer { server.stop() }
        #expect {
            try HTTPClient().send(HTTPRequest(url: server.url("/")), retry: fastRetry)
        } throws: { error in
            guard let error = error as? HTTPError, case let .status(400, body, _) = error else { return false }
            return body.contains("bad model")
        }
        #expect(server.requests.count == 1)
    }

    @Test func droppedConnectionIsRetried() throws {
        let server = try LoopbackHTTPServer(replies: [.hangUp(delay: 0), .json("{}")])
        defer { server.stop() }
        var codes: [Int] = []
        _ = try HTTPClient().send(HTTPRequest(url: server.url("/")), retry: fastRetry) { _, reason, _ in
            if case let .transport(code, _, _) = reason { codes.append(code) }
        }
        #expect(codes == [52])  // CURLE_GOT_NOTHING: "Empty reply from server"
        #expect(server.requests.count == 2)
    }

    @Test func garbageReplyIsATransportError() throws {
        let server = try LoopbackHTTPServer(replies: [.raw(bytes: Array("this is not HTTP\r\n\r\n".utf8), delay: 0)])
        defer { server.stop() }
        #expect {
            try HTTPClient().send(HTTPRequest(url: server.url("/")))
        } throws: { error in
            guard let error = error as? HTTPError, case .transport = error else { return false }
            return true
        }
    }

    @Test func malformedRequestsAreRejectedBeforeSending() throws {
        let client = HTTPClient()
        #expect(throws: HTTPError.self) {
            try client.send(HTTPRequest(url: "http://127.0.0.1:1/", headers: [("X-Bad", "a\r\nInjected: yes")]))
        }
        #expect(throws: HTTPError.self) {
            try client.send(HTTPRequest(url: "http://127.0.0.1:1/", timeout: 0))
        }
        #expect {
            try client.send(HTTPRequest(url: "ftp://127.0.0.1/file"))
        } throws: { error in
            guard let error = error as? HTTPError, case .transport = error else { return false }
            return error.url == "ftp://127.0.0.1/file"
        }
        #expect(throws: HTTPError.self) { try client.send(HTTPRequest(url: "not a url")) }
    }

    @Test func streamsServerSentEvents() throws {
        let server = try LoopbackHTTPServer(replies: [
            .sse([#"{"delta":"Hel"}"#, #"{"delta":"lo"}"#, "[DONE]"], interval: 0.01)
        ])
        defer { server.stop() }
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var pieces = 0
        let head = try HTTPClient().stream(HTTPRequest(url: server.url("/v1/chat/completions"))) { bytes in
            pieces += 1
            events += (try? parser.feed(bytes)) ?? []
            return true
        }
        try parser.finish()
        #expect(head.status == 200)
        #expect(head.header("content-type") == "text/event-stream")
        #expect(events.map(\.data) == [#"{"delta":"Hel"}"#, #"{"delta":"lo"}"#, "[DONE]"])
        #expect(events.last?.isDone == true)
        #expect(pieces >= 1)
    }

    @Test func streamStopsWhenTheReceiverSaysSo() throws {
        let pieces = (0..<50).map { StreamPiece("data: \($0)\n\n", delay: 0.01) }
        let server = try LoopbackHTTPServer(replies: [.stream(status: 200, headers: [], pieces: pieces, delay: 0)])
        defer { server.stop() }
        var received: [UInt8] = []
        let head = try HTTPClient().stream(HTTPRequest(url: server.url("/"))) { bytes in
            received += bytes
            return false
        }
        #expect(head.status == 200)
        #expect(String(decoding: received, as: UTF8.self).hasPrefix("data: 0"))
        #expect(received.count < 50 * 9)
    }

    @Test func streamErrorStatusIsThrownNotStreamed() throws {
        let server = try LoopbackHTTPServer(replies: [.json(#"{"error":"rate limited"}"#, status: 429)])
        defer { server.stop() }
        var calls = 0
        #expect {
            try HTTPClient().stream(HTTPRequest(url: server.url("/"))) { _ in
                calls += 1
                return true
            }
        } throws: { error in
            guard let error = error as? HTTPError, case let .status(429, body, _) = error else { return false }
            return body.contains("rate limited")
        }
        #expect(calls == 0)
    }

    @Test func concurrentRequestsFromSeveralThreads() throws {
        let server = try LoopbackHTTPServer { request in .text("echo \(request.path)") }
        defer { server.stop() }
        let client = HTTPClient()
        let threads = 6
        let perThread = 5
        let lock = NSLock()
        var answers: [String: String] = [:]
        var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                let path = "/t\(thread)/r\(index)"
                do {
                    let response = try client.send(HTTPRequest(url: server.url(path)), retry: fastRetry)
                    lock.withLock { answers[path] = response.text }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
            }
        }
        #expect(failures.isEmpty)
        #expect(answers.count == threads * perThread)
        #expect(answers.allSatisfy { $0.value == "echo \($0.key)" })
        #expect(server.requests.count == threads * perThread)
    }

    /// Redirects are followed only when asked for.
    @Test func redirects() throws {
        let server = try LoopbackHTTPServer { request in
            request.path == "/old" ? .status(307, headers: [("Location", "/new")]) : .text("moved here")
        }
        defer { server.stop() }
        let client = HTTPClient()
        #expect(throws: HTTPError.self) { try client.send(HTTPRequest(url: server.url("/old"))) }
        let followed = try client.send(HTTPRequest(url: server.url("/old"), followRedirects: true))
        #expect(followed.text == "moved here")
    }
}
