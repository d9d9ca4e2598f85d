import Foundation
import TestSupport
import HTTPClient
import Inference
import Records
import Testing
@testable import Serving

/// 200 requests from 8 concurrent clients over loopback, with a model reload in the middle: none
/// lost or failed, each logged exactly once. Bounded in count (max_tokens 4) rather than in time.
@Suite struct LoadTests {
    @Test func twoHundredRequestsFromEightClientsWithAReloadInTheMiddle() async throws {
        let server = try await TestServer(model: TinyServingModel.load) { config in
            config.apiKey = "k"
            config.parallel = 4
            config.queueCapacity = 16
        }
        let auth = [("Authorization", "Bearer k")]
        let clients = 8, perClient = 25
        let results = ResultBox()
        let reloaded = DispatchSemaphore(value: 0)
        let port = server.port
        try await offCooperativePool {
            let group = DispatchGroup()
            for c in 0..<clients {
                group.enter()
                BlockingWork.start {
                    defer { group.leave() }
                    let client = HTTPClient()
                    for i in 0..<perClient {
                        let stream = (c + i) % 3 == 0
                        let body = #"{"messages":[{"role":"user","content":"client \#(c) request \#(i)"}],"max_tokens":4,"stream":\#(stream)}"#
                        let request = HTTPRequest.postJSON(url: "http://127.0.0.1:\(port)/v1/chat/completions",
                                                           body: Array(body.utf8), headers: auth,
                                                           // A hang guard only: under CI's load (the
                                                           // loop and the model suites run beside this
                                                           // one) a request queued behind the reload
                                                           // has taken over the default 60 s.
                                                           timeout: 1800)
                        do {
                            let response = try client.perform(request)
                            let id = stream ? Self.streamID(response.text) : (try? JSONParser.parse(response.text))?["id"]?.string
                            results.add(status: response.status, id: id)
                        } catch {
                            results.add(status: -1, id: nil)
                        }
                        if c == 0 && i == perClient / 2 {
                            let reload = try? client.perform(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/admin/reload", headers: auth))
                            if reload?.status == 200 { reloaded.signal() }
                        }
                    }
                }
            }
            group.wait()
        }
        try await server.stop()
        #expect(reloaded.wait(timeout: .now()) == .success, "the reload in the middle failed")
        #expect(server.server.host.reloads == 1)
        let (statuses, ids) = results.snapshot()
        #expect(statuses.count == clients * perClient)
        #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(statuses))")
        let logged = try server.logRecords().compactMap { $0["id"]?.string }
        #expect(logged.count == clients * perClient)
        #expect(Set(logged).count == logged.count, "a request was logged twice")
        #expect(Set(logged) == Set(ids))
    }

    /// The id of a streamed answer, from its first chunk.
    static func streamID(_ text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("data: {") }) else { return nil }
        return (try? JSONParser.parse(String(line.dropFirst(6))))?["id"]?.string
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    private var ids: [String] = []

    func add(status: Int, id: String?) {
        lock.lock()
        statuses.append(status)
        if let id { ids.append(id) }
        lock.unlock()
    }

    func snapshot() -> ([Int], [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (statuses, ids)
    }
}
