import Foundation
import Records
import Testing
@testable import Serving

/// What a chat request carries into the traffic log besides the answer: the last user message as
/// `question` (what judge and orpo-pairs read), OpenAI's `metadata` and `user`.
@Suite(.serialized) struct RequestMetadataTests {
    @Test func theLogCarriesTheQuestionMetadataAndUser() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let body = #"{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},"#
            + #"{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"say hi"}]}],"#
            + #""max_tokens":2,"metadata":{"topic":"banking","tenant":"t1"},"user":"u-42"}"#
        let reply = try await server.post("/v1/chat/completions", body)
        #expect(reply.status == 200, "\(reply.text)")
        let plain = try await server.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hello"}],"max_tokens":2}"#)
        #expect(plain.status == 200)
        try await server.stop()
        let records = try server.logRecords()
        #expect(records.count == 2)
        #expect(records[0]["question"] == "say hi")
        #expect(records[0]["metadata"]?["topic"] == "banking")
        #expect(records[0]["metadata"]?["tenant"] == "t1")
        #expect(records[0]["user"] == "u-42")
        #expect(records[1]["question"] == "hello")
        #expect(records[1]["metadata"] == nil && records[1]["user"] == nil)
    }

    @Test func malformedMetadataOrUserIsA400NamingIt() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let cases = [(#""metadata":{"topic":3}"#, "metadata"), (#""metadata":["banking"]"#, "metadata"), (#""user":7"#, "user")]
        for (field, param) in cases {
            let r = try await server.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}],"# + field + "}")
            #expect(r.status == 400, "\(field)")
            #expect(r.json?.value(atPath: "error.param")?.string == param)
        }
        try await server.stop()
        // Refused requests are logged as such, with their status and error, and nothing else.
        let records = try server.logRecords()
        #expect(records.map { $0["type"]?.string } == ["rejected", "rejected", "rejected"])
        #expect(records.map { $0.value(atPath: "error.param")?.string } == ["metadata", "metadata", "user"])
        #expect(records.allSatisfy { $0["status"] == 400 && $0["endpoint"] == "/v1/chat/completions" })
        #expect(records.allSatisfy { $0["model"]?.string == "serving-tiny" || $0["model"]?.string?.isEmpty == false },
                "a refusal names the serving model, for windows grouped by model")
    }
}
