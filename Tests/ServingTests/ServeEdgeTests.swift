import Foundation
import Gemma
import Records
import TestSupport
import Testing
@testable import Serving

/// gemma-infer serve's edges: a port already taken, and min_tokens, on the tiny model.
@Suite struct ServeEdgeTests {
    /// A port another process holds: the message says which address and why, not NIO's call.
    @Test func aPortInUseIsNamedPlainly() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let log = NSTemporaryDirectory() + "in-use-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let run = try runTool("gemma-infer", ["serve", "--model", try TinyServingModel.path(), "--host", "127.0.0.1",
                                              "--port", String(port), "--threads", "1", "--log", log])
        #expect(run.status == 2)
        #expect(run.stderr.contains("gemma-infer: error: cannot listen on 127.0.0.1:\(port): Address already in use"), "\(run.stderr)")
        #expect(!run.stderr.contains("bind("), "\(run.stderr)")
    }

    /// min_tokens holds the end tokens back: a prompt whose greedy answer ends early on the tiny
    /// model goes on to exactly max_tokens, the same tokens until it would have ended, and no end
    /// token among them; over HTTP too, where usage says so.
    @Test func minTokensHoldsTheEndTokensBack() async throws {
        let path = NSTemporaryDirectory() + "ending-tiny-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TinyServingModel.write(to: path, endOfTurnLike: "q")
        let model = try TinyServingModel.load(path: path)
        let generator = model.generator
        var found: (text: String, ids: [Int], free: GenerationResult)?
        for i in 0..<200 where found == nil {
            let text = "the cat \(i)"
            let ids = model.tokenizer.encode(text, addBOS: true, parseSpecial: true)
            let free = try generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 48))
            if free.finishReason == .stop && free.completionTokens < 40 { found = (text, ids, free) }
        }
        let (prompt, ids, free) = try #require(found, "no prompt of the tiny model ends early")
        let held = try generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 48, minTokens: 48))
        #expect(held.completionTokens == 48 && held.finishReason == .length)
        #expect(!held.tokenIDs.contains { generator.stopTokenIDs.contains($0) })
        #expect(held.tokenIDs.starts(with: free.tokenIDs))

        let server = try await TestServer(model: { try TinyServingModel.load(path: path) })
        let body = #"{"prompt":\#(JSONSerializer.string(.string(prompt))),"max_tokens":48,"min_tokens":48}"#
        let reply = try await server.post("/v1/completions", body)
        let bad = try await server.post("/v1/completions", #"{"prompt":"x","max_tokens":4,"min_tokens":5}"#)
        try await server.stop()
        #expect(reply.json?["usage"]?["completion_tokens"] == 48, "\(reply.text)")
        #expect(bad.status == 400, "\(bad.text)")
    }
}
