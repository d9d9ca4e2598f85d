import Foundation
import HTTPClient
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The test server itself, driven over a raw socket where libcurl would hide what is being checked.
@Suite struct LoopbackHTTPServerTests {
    /// A minimal blocking client socket to 127.0.0.1.
    final class RawSocket {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(result == 0)
        }
        deinit { close(fd) }
        func write(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        /// Reads until `marker` has been seen or the peer closes.
        func read(until marker: String) -> String {
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: received, as: UTF8.self).contains(marker) {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received += chunk[..<count]
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try LoopbackHTTPServer(replies: [.text("one"), .text("two")])
        defer { server.stop() }
        let socket = try RawSocket(port: server.port)
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
        let socket = try RawSocket(port: server.port)
        socket.write("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 100 Continue"))
        socket.write("body")
        #expect(socket.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 204"))
        #expect(server.requests.first?.text == "body")
    }

    @Test func malformedRequestGetsA400() throws {
        let server = try LoopbackHTTPServer(replies: [.text("unused")])
        defer { server.stop() }
        let socket = try RawSocket(port: server.port)
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
