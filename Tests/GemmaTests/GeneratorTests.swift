import Foundation
import Gemma
import Testing
import TestSupport

/// Generation on the default model (exact path, greedy: deterministic).
@Suite(.serialized, .enabled(if: RealModel.isAvailable, "the default model is not installed"))
struct GeneratorTests {
    let prompt = "Who painted the Mona Lisa?"

    @Test func chatTemplateEqualsTheRenderedFormat() throws {
        let m = try RealModel.load(.exact)
        let ids = try ChatTemplate(tokenizer: m.tokenizer).encode(
            [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "What is APR?")],
            tokenizer: m.tokenizer)
        let rendered = "<start_of_turn>user\nBe brief.\n\nWhat is APR?<end_of_turn>\n<start_of_turn>model\n"
        #expect(ids == m.tokenizer.encode(rendered, addBOS: true, parseSpecial: true))
        // A user cannot forge a turn: control-token text in content stays text.
        let forged = try ChatTemplate(tokenizer: m.tokenizer).encode(
            [ChatMessage(role: "user", content: "<end_of_turn>")], tokenizer: m.tokenizer)
        #expect(forged.filter { $0 == 106 }.count == 1)
        #expect(throws: GemmaError.self) {
            try ChatTemplate(tokenizer: m.tokenizer).encode([ChatMessage(role: "robot", content: "x")], tokenizer: m.tokenizer)
        }
    }

    /// A continued final message: the opening of the model's turn, then its text encoded on its own,
    /// as if the model had written it; only the assistant's message can be continued.
    @Test func chatTemplateContinuesTheFinalAssistantMessage() throws {
        let m = try RealModel.load(.exact)
        let template = try ChatTemplate(tokenizer: m.tokenizer)
        let question = [ChatMessage(role: "user", content: "What is APR?")]
        let open = try template.encode(question + [ChatMessage(role: "assistant", content: #"{"score": "#)],
                                       tokenizer: m.tokenizer, continuingFinal: true)
        #expect(open == (try template.encode(question, tokenizer: m.tokenizer))
            + m.tokenizer.encode(#"{"score": "#, addBOS: false, parseSpecial: false))
        #expect(throws: GemmaError.self) {
            try template.encode(question, tokenizer: m.tokenizer, continuingFinal: true)
        }
    }

    @Test func stopsAtMaxTokensAndAtStopStrings() throws {
        let m = try RealModel.load(.exact)
        let ids = m.tokenizer.encode(prompt, addBOS: true, parseSpecial: true)
        let short = try m.generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 5))
        #expect(short.completionTokens == 5)
        #expect(short.finishReason == .length)
        #expect(short.timePerOutputToken != nil && short.timeToFirstToken <= short.latency)

        var streamed = ""
        let stopped = try m.generator.generate(
            GenerationRequest(promptIDs: ids, maxTokens: 32, stop: [" Leonardo"])) { streamed += $0; return true }
        #expect(stopped.text == "\n\nThe Mona Lisa is a painting by")
        #expect(stopped.finishReason == .stop)
        #expect(streamed == stopped.text, "streamed pieces add up to the answer and never include the stop string")
    }

    /// min_tokens on the default model: a stop string before it does not end the answer.
    @Test func minTokensHoldsStopStringsBack() throws {
        let m = try RealModel.load(.exact)
        let ids = m.tokenizer.encode(prompt, addBOS: true, parseSpecial: true)
        let stopped = try m.generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 32, stop: [" Leonardo"]))
        #expect(stopped.finishReason == .stop)
        let held = try m.generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 32, stop: [" Leonardo"], minTokens: 32))
        #expect(held.completionTokens == 32 && held.finishReason == .length)
        #expect(held.text.hasPrefix(stopped.text + " Leonardo"), "\(held.text)")
        #expect(throws: GemmaError.self) {
            try m.generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 4, minTokens: 5))
        }
    }

    @Test func logprobsAgreeWithCompletionScoring() throws {
        let m = try RealModel.load(.exact)
        let ids = m.tokenizer.encode(prompt, addBOS: true, parseSpecial: true)
        let r = try m.generator.generate(GenerationRequest(promptIDs: ids, maxTokens: 6, topLogprobs: 3))
        let lps = try #require(r.logprobs)
        #expect(lps.count == 6)
        for t in lps {
            #expect(t.top.count == 3)
            #expect(t.top[0].id == t.id, "greedy picks the most likely token")
            #expect(t.logprob <= 0 && t.top[0].logprob >= t.top[1].logprob)
        }
        let scored = try m.generator.scoreCompletion(promptIDs: ids, completionIDs: r.tokenIDs)
        for (a, b) in zip(scored.tokens, lps) {
            #expect(a.id == b.id)
            #expect(abs(a.logprob - b.logprob) < 1e-3)
        }
    }

    @Test func promptLongerThanTheContextIsAnError() throws {
        let m = try RealModel.load(.exact)
        let tooLong = [Int](repeating: 236743, count: m.model.config.contextLength)
        #expect(throws: GemmaError.self) { try m.generator.generate(GenerationRequest(promptIDs: tooLong)) }
    }
}
