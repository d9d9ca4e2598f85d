import Foundation
import Inference
import Records
import Testing
import TestSupport

/// gemma-infer as a user runs it: records in, records out, errors marked, status like the docs say.
@Suite(.serialized, .enabled(if: RealModel.isAvailable, "the default model is not installed"))
struct CommandLineTests {
    @Test func answersMarksBadInputAndSetsTheExitStatus() async throws {
        let input = """
        {"id": "q1", "question": "What is a savings account?", "max_tokens": 8, "extra": [1, {"kept": true}]}
        {"prompt": "The capital of France is", "max_tokens": 4, "stop": ["."]}
        {"prompt": 42}
        this is not json

        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "top_logprobs": 2}
        """
        let r = try await runTool("gemma-infer", ["--max-tokens", "16"], stdin: input)
        #expect(r.status == 1, "some records failed")
        let out = r.records
        #expect(out.count == 5, "every input record comes out, processed or marked")
        #expect(out[0]["id"] == "q1")
        #expect(out[0].keys.prefix(4) == ["id", "question", "max_tokens", "extra"], "input fields first, in order")
        #expect(out[0]["extra"] == [1, ["kept": true]])
        for f in ["answer", "model", "prompt_tokens", "completion_tokens", "ttft_ms", "latency_ms", "finish_reason", "ts"] {
            #expect(out[0][f] != nil, "field \(f)")
        }
        #expect(out[0]["completion_tokens"]!.int! <= 8)
        #expect(out[0]["adapter"] == .null)
        #expect(out[1]["id"]?.string?.hasPrefix("gen-") == true)
        #expect(out[2]["error"]?.string?.contains("field 'prompt' must be a string") == true)
        #expect(out[3]["line"] == 4 && out[3]["raw"] == "this is not json")
        #expect(out[4]["logprobs"]?.array?.count == out[4]["completion_tokens"]?.int)
        #expect(r.stderr.contains("gemma-infer: error: field 'prompt' must be a string"))
        #expect(r.stderr.contains("line 4"))
    }

    @Test func missingModelAndBadFlagsExitWithStatusTwo() async throws {
        let missing = try await runTool("gemma-infer", ["--model", "/nonexistent/model.gguf"], stdin: #"{"question": "x"}"#)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/model.gguf"))
        let corrupt = NSTemporaryDirectory() + "corrupt-\(UUID().uuidString).gguf"
        try Data("GGUF\u{3}\0\0\0truncated".utf8).write(to: URL(fileURLWithPath: corrupt))
        defer { try? FileManager.default.removeItem(atPath: corrupt) }
        let bad = try await runTool("gemma-infer", ["--model", corrupt], stdin: #"{"question": "x"}"#)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(corrupt))
        let usage = try await runTool("gemma-infer", ["--temperature", "-2"], stdin: "")
        #expect(usage.status == 2)
        // No worker threads is a usage error of every tool that computes, not a silent one thread.
        for (tool, arguments) in [("gemma-infer", ["--threads", "0"]), ("judge", ["--check", "no_pii", "--threads", "0"]),
                                  ("orpo-train", ["p.jsonl", "--threads", "0"]),
                                  ("lora-merge", ["--adapter", "a", "-o", "o", "--threads", "0"])] {
            let run = try await runTool(tool, arguments, stdin: "")
            #expect(run.status == 2 && run.stderr.contains("--threads must be at least 1"), "\(tool): \(run.stderr)")
        }
        let nan = try await runTool("judge", ["--check", "no_pii", "--pass-threshold", "nan"], stdin: "")
        #expect(nan.status == 2 && nan.stderr.contains("--pass-threshold must be a finite number"), "\(nan.stderr)")
    }

    @Test func scoresAGivenCompletion() async throws {
        let input = #"{"prompt": "The capital of France is", "completion": " Paris"}"# + "\n"
            + #"{"prompt": "The capital of France is", "completion": " Banana"}"#
        let r = try await runTool("gemma-infer", ["--score-completion", "completion"], stdin: input)
        #expect(r.status == 0)
        let paris = try #require(r.records.first?["completion_logprob"]?.double)
        let banana = try #require(r.records.last?["completion_logprob"]?.double)
        #expect(paris > banana)
        #expect(r.records.first?["answer"] == nil, "scoring does not generate")
    }
}
