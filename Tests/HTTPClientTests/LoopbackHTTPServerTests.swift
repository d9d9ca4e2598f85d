import Foundation
import HTTPClient
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The test server itself, driven over a raw socket where libcurl would hide what is being checked.
@Suite struct LoopbackHTTPServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try LoopbackHTTPServer(replies: [.text("one"), .text("two")])
        defer { server.stop() }
        let socket = try RawClientSocket(port: server.port)
        socket.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(socket.read(until: "one").hasPrefix("HTTP/1.1 200 OK\r\n"))
        socket.write("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n")
        #expect(socket.read(until: "two").contains("Content-Length: 3"))
        let seen = server.requests
        #expect(seen.map(\.path) == ["/a", "/b"])
        #expect(seen.map(\.connection) == [0, 0])
        #expect(seen.last?.text == "abcde")
        #expect(server.connectionCount == 1)
    }

    @Test func answersExpectContinue() throws {
        let server = try LoopbackHTTPServer(replies: [.status(204)])
        defer { server.stop() }
        let socket = try RawClientSocket(port: server.port)
        socket.write("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 100 Continue"))
        socket.write("body")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 204"))
        #expect(server.requests.first?.text == "body")
    }

    @Test func malformedRequestGetsA400() throws {
        let server = try LoopbackHTTPServer(replies: [.text("unused")])
        defer { server.stop() }
        let socket = try RawClientSocket(port: server.port)
        socket.write("NONSENSE\r\n\r\n")
        #expect(socket.read(until: "malformed").hasPrefix("HTTP/1.1 400"))
        #expect(server.requests.isEmpty)
    }

    @Test func runsOutOfScriptWith501() throws {
        let server = try LoopbackHTTPServer(replies: [])
        defer { server.stop() }
        let response = try HTTPClient().perform(HTTPRequest(url: server.url("/")))
        #expect(response.status == 501)
        server.enqueue(.text("late"))
        #expect(try HTTPClient().send(HTTPRequest(url: server.url("/"))).text == "late")
    }

    /// stop() interrupts a reply that is still waiting out its delay and returns promptly, and the
    /// client sees the connection closed.
    @Test func stopInterruptsPendingReplies() throws {
        let server = try LoopbackHTTPServer(replies: [.text("never", delay: 600)])
        let client = HTTPClient()
        let finished = DispatchSemaphore(value: 0)
        let failures = LockedList<any Error>()
        DispatchQueue.global().async {
            let result = Result { try client.send(HTTPRequest(url: server.url("/"), timeout: 120)) }
            if case let .failure(error) = result { failures.append(error) }
            finished.signal()
        }
        // Bounded (a minute): a request that never arrives fails the test instead of hanging it.
        for _ in 0..<60_000 where server.requests.isEmpty && failures.all.isEmpty { usleep(1000) }
        try #require(!server.requests.isEmpty, "the request never reached the server: \(failures.all)")
        server.stop()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect(failures.all.count == 1)
        server.stop()  // a second stop is harmless
    }
}
