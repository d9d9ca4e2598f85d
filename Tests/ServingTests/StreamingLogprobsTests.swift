import Foundation
import Records
import Testing
@testable import Serving

/// With logprobs asked for, each streamed chunk carries the log-probabilities of the tokens its
/// text came from (OpenAI's `choices[0].logprobs` per chunk), and all chunks together carry exactly
/// the non-streamed answer's.
@Suite(.serialized) struct StreamingLogprobsTests {
    static func chunks(_ events: [String]) throws -> [JSONObject] {
        #expect(events.last == "[DONE]")
        return try events.dropLast().map { try #require(JSONParser.parse($0).object) }
    }

    @Test func chatChunksCarryTheirTokensLogprobs() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let body = #"{"messages":[{"role":"user","content":"say hi"}],"max_tokens":10,"temperature":0.8,"seed":4,"logprobs":true,"top_logprobs":2"#
        let whole = try await server.post("/v1/chat/completions", body + "}")
        let events = try await server.stream("/v1/chat/completions", body + #","stream":true}"#)
        try await server.stop()

        let expected = try #require(whole.json?.value(atPath: "choices")?[0]?["logprobs"]?["content"]?.array)
        #expect(expected.count == 10)
        let chunks = try Self.chunks(events)
        var streamed: [JSONValue] = []
        for chunk in chunks.dropFirst() {  // the first chunk is the role
            let choice = chunk.value(atPath: "choices")?[0]
            let content = try #require(choice?["logprobs"]?["content"]?.array, "chunk without logprobs: \(chunk)")
            if let text = choice?["delta"]?["content"]?.string, !text.isEmpty {
                #expect(!content.isEmpty, "a text chunk carries the logprobs of its tokens")
                let tokens = content.compactMap { $0["token"]?.string }.joined()
                #expect(tokens.contains(text) || text.contains(tokens.trimmingCharacters(in: .whitespaces)),
                        "chunk text '\(text)' comes from its tokens '\(tokens)'")
            }
            streamed += content
        }
        #expect(streamed == expected)
        #expect(chunks.first?.value(atPath: "choices")?[0]?["logprobs"] == .null, "the role chunk has none")
    }

    @Test func completionChunksCarryTokensAndRunningOffsets() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let body = #"{"prompt":"the cat","max_tokens":8,"logprobs":1"#
        let whole = try await server.post("/v1/completions", body + "}")
        let events = try await server.stream("/v1/completions", body + #","stream":true}"#)
        try await server.stop()

        let expected = try #require(whole.json?.value(atPath: "choices")?[0]?["logprobs"]?.object)
        var tokens: [JSONValue] = [], offsets: [JSONValue] = [], logprobs: [JSONValue] = []
        for chunk in try Self.chunks(events) {
            let lp = try #require(chunk.value(atPath: "choices")?[0]?["logprobs"]?.object)
            tokens += lp["tokens"]?.array ?? []
            offsets += lp["text_offset"]?.array ?? []
            logprobs += lp["token_logprobs"]?.array ?? []
        }
        #expect(tokens == expected["tokens"]?.array)
        #expect(offsets == expected["text_offset"]?.array)
        #expect(logprobs == expected["token_logprobs"]?.array)
        #expect(tokens.count == 8)
    }

    @Test func withoutLogprobsChunksHaveNone() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let events = try await server.stream("/v1/completions", #"{"prompt":"the cat","max_tokens":4,"stream":true}"#)
        try await server.stop()
        for chunk in try Self.chunks(events) {
            #expect(chunk.value(atPath: "choices")?[0]?["logprobs"] == .null)
        }
    }
}
