import Foundation
import HTTPClient
import Records
import TestSupport
import Testing
@testable import Judging

/// The HTTP backend against a real server on the loopback interface, with faults staged.
@Suite struct OpenAIBackendTests {
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.001, maxDelay: 0.01)

    /// The default timeout (60 s) is a hang guard: tests that count requests must not see a retry
    /// because a loopback reply was slow on a loaded machine.
    static func backend(_ server: LoopbackHTTPServer, timeout: Double = 60, structured: Bool = true,
                        retry: RetryPolicy = fastRetry) -> OpenAIBackend {
        var settings = OpenAISettings(baseURL: server.url("/v1/"), model: "judge-model", apiKey: "sk-test")
        settings.timeout = timeout
        settings.retry = retry
        settings.structuredOutput = structured
        return OpenAIBackend(settings: settings)
    }

    static func bankingJudge(_ backend: any JudgeBackend, options: JudgeOptions = JudgeOptions(),
                             cache: JudgeCache? = nil, budget: Budget? = nil) throws -> Judge {
        try Judge(config: try Fixture.judge("restrict-to-banking.json"), backend: backend, cache: cache, budget: budget,
                  options: options)
    }

    @Test func requestCarriesModelMessagesSchemaAndKey() throws {
        let server = try LoopbackHTTPServer(replies: [.json(chatCompletion(#"{"score": 1, "explanation": "fine"}"#))])
        defer { server.stop() }
        let judge = try Self.bankingJudge(Self.backend(server))
        let verdict = judge.evaluate(["question": "What is APR?", "answer": "The yearly cost of credit."])
        #expect(verdict.status == .ok)
        #expect(verdict.score == 1)
        #expect(verdict.pass == true)
        #expect(verdict.explanation == "fine")
        #expect(verdict.model == "judge-model")
        #expect(verdict.promptTokens == 100)
        let request = try #require(server.requests.first)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.header("Authorization") == "Bearer sk-test")
        let body = try #require(JSONParser.parse(request.text).object)
        #expect(body["model"] == "judge-model")
        #expect(body["messages"]?[1]?["content"]?.string?.contains("Question: What is APR?") == true)
        #expect(body["response_format"]?["json_schema"]?["schema"]?["properties"]?["score"]?["enum"] == .array([0, 1]))
        #expect(body["logprobs"] == nil)
    }

    @Test func structuredOutputRefusedFallsBackOnce() throws {
        let server = try LoopbackHTTPServer(replies: [
            .json(#"{"error": {"message": "response_format json_schema is not supported"}}"#, status: 400),
            .json(chatCompletion("Score: 0")),
            .json(chatCompletion("Score: 1")),
        ])
        defer { server.stop() }
        let judge = try Self.bankingJudge(Self.backend(server))
        #expect(judge.evaluate(["question": "q", "answer": "a"]).score == 0)
        #expect(judge.evaluate(["question": "q", "answer": "b"]).score == 1)
        let bodies = server.requests.map { (try? JSONParser.parse($0.text).object) ?? [:] }
        #expect(bodies.count == 3)
        #expect(bodies[0]["response_format"] != nil)
        #expect(bodies[1]["response_format"] == nil)
        #expect(bodies[2]["response_format"] == nil)
    }

    @Test func logprobsGiveTheExpectedScore() throws {
        let reply = chatCompletion(#"{"score": 1}"#, logprobs: [
            ("{\"", -0.01, []), ("score", -0.01, []), ("\":", -0.01, []),
            (" 1", log(0.75), [(" 1", log(0.75)), (" 0", log(0.2)), (" maybe", log(0.05))]),
            ("}", -0.01, []),
        ])
        let server = try LoopbackHTTPServer(replies: [.json(reply)])
        defer { server.stop() }
        var options = JudgeOptions()
        options.wantsLogprobs = true
        let judge = try Self.bankingJudge(Self.backend(server), options: options)
        let verdict = judge.evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .ok)
        #expect(abs((verdict.score ?? 0) - 0.75 / 0.95) < 1e-9)
        #expect(verdict.decision?.label == "1")
        #expect(verdict.pass == true)
        #expect(abs((verdict.distribution?.coveredMass ?? 0) - 0.95) < 1e-9)
        let json = verdict.json
        #expect(json["distribution"]?["0"] == .double(0.210526))
        let sent = try #require(server.requests.first)
        let body = try #require(JSONParser.parse(sent.text).object)
        #expect(body["logprobs"] == true)
        #expect(body["top_logprobs"] == 5)
    }

    /// With the reply prefilled, the request ends with the assistant's `{"score": ` to continue (and no
    /// response_format), the reply text is the prefix plus the continuation, and the score's
    /// probabilities come from the first token written.
    @Test func prefilledReplyContinuesTheScoreObject() throws {
        let reply = chatCompletion(#"0, "explanation": "off topic"}"#, logprobs: [
            ("0", log(0.6), [("0", log(0.6)), ("1", log(0.3)), ("\n", log(0.05))]),
            (",", -0.01, [(",", -0.01)]),
        ])
        let server = try LoopbackHTTPServer(replies: [.json(reply)])
        defer { server.stop() }
        var settings = Self.backend(server).settings
        settings.prefillReply = true
        let backend = OpenAIBackend(settings: settings)
        var options = JudgeOptions()
        options.wantsLogprobs = true
        let verdict = try Self.bankingJudge(backend, options: options).evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .ok, "\(verdict.json)")
        #expect(abs((verdict.score ?? -1) - 1.0 / 3) < 1e-9)
        #expect(verdict.decision?.label == "0")
        #expect(verdict.explanation == "off topic")
        let sent = try #require(server.requests.first)
        let body = try #require(try JSONParser.parse(sent.text).object)
        let messages = try #require(body["messages"]?.array)
        #expect(messages.last?["role"] == "assistant")
        #expect(messages.last?["content"] == #"{"score": "#)
        #expect(body["continue_final_message"] == true)
        #expect(body["add_generation_prompt"] == false)
        #expect(body["response_format"] == nil)
        #expect(backend.parameters["prefill_reply"] == true)
    }

    @Test func unparseableReplyKeepsTheRawText() throws {
        let server = try LoopbackHTTPServer(replies: [.json(chatCompletion("I am not able to evaluate banking advice."))])
        defer { server.stop() }
        let verdict = try Self.bankingJudge(Self.backend(server)).evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .parseError)
        #expect(verdict.score == nil)
        #expect(verdict.pass == nil)
        #expect(verdict.raw == "I am not able to evaluate banking advice.")
        #expect(verdict.json["score"] == .null)
    }

    @Test func serverErrorsBecomeErrorStatus() throws {
        let server = try LoopbackHTTPServer(replies: [.json(#"{"error": "bad key"}"#, status: 401)])
        defer { server.stop() }
        let verdict = try Self.bankingJudge(Self.backend(server)).evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .error)
        #expect(verdict.reason?.contains("HTTP 401") == true)
        #expect(server.requests.count == 1)
    }

    @Test func persistentGarbageIsAnErrorAfterTheRetries() throws {
        let server = try LoopbackHTTPServer(handler: { _ in .text("<html>proxy error</html>") })
        defer { server.stop() }
        let verdict = try Self.bankingJudge(Self.backend(server)).evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .error)
        #expect(verdict.reason?.contains("not JSON") == true)
        #expect(server.requests.count == 4)
    }

    @Test func cacheMakesARerunFree() throws {
        let server = try LoopbackHTTPServer(replies: [.json(chatCompletion(#"{"score": 0, "explanation": "off topic"}"#))])
        defer { server.stop() }
        let scratch = try ScratchDirectory()
        let cache = try JudgeCache(directory: scratch.path + "/cache")
        let record: JSONObject = ["question": "Who won the cup?", "answer": "Spain."]
        let first = try Self.bankingJudge(Self.backend(server), cache: cache).evaluate(record)
        let second = try Self.bankingJudge(Self.backend(server), cache: cache).evaluate(record)
        #expect(server.requests.count == 1)
        #expect(first.cached == false)
        #expect(second.cached == true)
        #expect(second.score == 0)
        #expect(second.explanation == "off topic")
        #expect(second.templateSHA == first.templateSHA)
        // A different record is a different key.
        let third = try Self.bankingJudge(Self.backend(server), cache: cache).evaluate(["question": "q2", "answer": "a"])
        #expect(third.status == .error)  // the server's script is used up: 501
        #expect(server.requests.count == 2)
    }

    @Test func budgetStopsNewRequests() throws {
        let server = try LoopbackHTTPServer(handler: { _ in .json(chatCompletion("1", promptTokens: 80, completionTokens: 20)) })
        defer { server.stop() }
        let budget = Budget(maxTokens: 250)
        let judge = try Self.bankingJudge(Self.backend(server), budget: budget)
        let statuses = (0..<5).map { judge.evaluate(["question": .string("q\($0)"), "answer": "a"]).status }
        #expect(statuses == [Verdict.Status.ok, .ok, .ok, .budgetExhausted, .budgetExhausted])
        #expect(budget.tokensSpent == 300)
        #expect(server.requests.count == 3)
        #expect(judge.evaluate(["question": "q", "answer": "a"]).reason?.contains("token budget of 250") == true)
    }

    /// A pairwise judge with position bias for the pair short/long (whichever is shown first wins) and
    /// none for bad/good ("good" always wins).
    static func pairwiseServer() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer(handler: { request in
            let text = request.text
            if text.contains("Answer A: short") && text.contains("Answer B: long") || text.contains("Answer A: long") && text.contains("Answer B: short") {
                return .json(chatCompletion(#"{"winner": "A", "explanation": "first is better"}"#))
            }
            let aIsGood = text.contains("Answer A: good")
            return .json(chatCompletion(aIsGood ? #"{"winner": "A"}"# : #"{"winner": "B"}"#))
        })
    }

    static let pairwiseConfig = JudgeConfig(name: "preference", gradingType: .pairwise, definition: "Which answer helps more.")

    @Test func pairwiseRunsBothOrdersAndCallsDisagreementATie() throws {
        let server = try Self.pairwiseServer()
        defer { server.stop() }
        let judge = try Judge(config: Self.pairwiseConfig, backend: Self.backend(server))
        let biased = judge.evaluate(["question": "q", "answer_a": "short", "answer_b": "long"])
        #expect(biased.status == .ok)
        #expect(biased.pairwise?.winner == "tie")
        #expect(biased.pairwise?.orders == ["a", "b"])
        #expect(biased.pairwise?.consistent == false)
        #expect(biased.score == 0.5)
        let fair = judge.evaluate(["question": "q", "answer_a": "bad", "answer_b": "good"])
        #expect(fair.pairwise?.winner == "b")
        #expect(fair.pairwise?.consistent == true)
        #expect(fair.score == 0)
        #expect(fair.pass == false)
        #expect(fair.promptTokens == 200)
        #expect(judge.pairwiseConsistency.judged == 2)
        #expect(judge.pairwiseConsistency.consistent == 1)
        #expect(server.requests.count == 4)
    }

    @Test func sampleIsDeterministicByID() throws {
        let server = try LoopbackHTTPServer(handler: { _ in .json(chatCompletion("1")) })
        defer { server.stop() }
        var options = JudgeOptions()
        options.sampleRate = 0.3
        let judge = try Self.bankingJudge(Self.backend(server), options: options)
        let records: [JSONObject] = (0..<200).map { ["id": .string("r\($0)"), "question": "q", "answer": "a"] }
        let chosen = records.filter(judge.isSampled)
        #expect(chosen.count > 30 && chosen.count < 90)
        #expect(records.filter(judge.isSampled) == chosen)
        let left = try #require(records.first { !judge.isSampled($0) })
        #expect(judge.evaluate(left).status == .notJudged)
        #expect(server.requests.isEmpty)
    }
}
