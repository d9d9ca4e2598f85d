import Foundation
import Gemma
import Inference
import Records
import TensorKit
import Testing
@testable import Serving
import TestSupport

/// On the default model when it is installed: the server's answers, streamed and not, equal the
/// filter's for the same record and seed.
@Suite struct RealModelTests {
    static var path: String { RealModel.path }
    static var isAvailable: Bool { RealModel.isAvailable }

    static let loaded = Result<LoadedModel, Error> {
        try ModelLoader.load(path: path, pool: try ComputePool(threads: 2))
    }

    @Test(.enabled(if: isAvailable)) func answersEqualTheFilters() async throws {
        let model = try Self.loaded.get()
        let server = try await TestServer(model: { try Self.loaded.get() })
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":8,"temperature":0.8,"seed":11"#
        let plain = try await server.post("/v1/chat/completions", body + "}")
        let events = try await server.stream("/v1/chat/completions", body + #","stream":true}"#)
        try await server.stop()
        let record: JSONObject = ["messages": [["role": "user", "content": "What is the capital of France?"]],
                                  "max_tokens": 8, "temperature": 0.8, "seed": 11]
        let expected = try RecordInference(model: model, settings: InferenceSettings()).process(record)["answer"]?.string
        #expect(expected?.isEmpty == false)
        #expect(plain.json?.value(atPath: "choices")?[0]?["message"]?["content"]?.string == expected)
        let streamed = events.dropLast().compactMap {
            (try? JSONParser.parse($0))?.object?.value(atPath: "choices")?[0]?["delta"]?["content"]?.string
        }.joined()
        #expect(streamed == expected)
        #expect(try server.logRecords().count == 2)
    }
}
