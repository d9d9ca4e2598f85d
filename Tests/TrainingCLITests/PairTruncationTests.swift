import Testing
import Training
@testable import TrainingCLI

@Suite struct PairTruncationTests {
    func pair(prompt: Int, chosen: Int, rejected: Int) -> TokenizedPair {
        let p = [2] + Array(100..<(100 + prompt - 1))
        let c = Array(200..<(200 + chosen)), r = Array(300..<(300 + rejected))
        return TokenizedPair(promptIDs: p, chosenIDs: p + c, chosenLabels: p.map { _ in -100 } + c,
                             rejectedIDs: p + r, rejectedLabels: p.map { _ in -100 } + r)
    }

    @Test func shortPairsPassUnchanged() throws {
        let p = pair(prompt: 3, chosen: 2, rejected: 4)
        let (out, truncated) = try PairTruncation(maxLength: 7, maxPromptLength: 3).apply(p)
        #expect(out == p && !truncated)
    }

    /// keep_end: the prompt keeps BOS and its last tokens; then responses are cut to
    /// max_length − max_prompt_length (the length the prompt was cut to).
    @Test func longPairsKeepThePromptsEndAndTheResponsesStart() throws {
        let (out, truncated) = try PairTruncation(maxLength: 8, maxPromptLength: 4).apply(pair(prompt: 6, chosen: 3, rejected: 6))
        #expect(truncated)
        #expect(out.chosenIDs == [2, 102, 103, 104, 200, 201, 202])
        #expect(out.rejectedIDs == [2, 102, 103, 104, 300, 301, 302, 303])
        #expect(out.rejectedLabels == [-100, -100, -100, -100, 300, 301, 302, 303])
        #expect(out.promptIDs == [2, 102, 103, 104])
    }

    /// A prompt within max_prompt_length stays whole and the responses fill the rest of
    /// max_length, as trl.experimental.orpo cuts them (max_length − prompt length).
    @Test func aShortPromptStaysWholeAndTheResponsesFillTheRest() throws {
        let (out, truncated) = try PairTruncation(maxLength: 6, maxPromptLength: 4).apply(pair(prompt: 3, chosen: 5, rejected: 2))
        #expect(truncated)
        #expect(out.promptIDs == [2, 100, 101])
        #expect(out.chosenIDs == [2, 100, 101, 200, 201, 202])
        #expect(out.chosenLabels == [-100, -100, -100, 200, 201, 202])
        #expect(out.rejectedIDs == [2, 100, 101, 300, 301])
    }

    @Test func skipPolicyAndEmptyResponsesThrow() {
        #expect(throws: PairInputError.self) {
            try PairTruncation(maxLength: 5, maxPromptLength: 2, policy: .skip).apply(pair(prompt: 4, chosen: 3, rejected: 1))
        }
        #expect(throws: PairInputError.self) {
            try PairTruncation(maxLength: 50, maxPromptLength: 20).apply(pair(prompt: 4, chosen: 0, rejected: 1))
        }
    }

    @Test func tokenizedRowsDefaultTheirLabelsAndCheckThem() throws {
        let p = try TrainingPairReader.tokenIDs(["prompt_input_ids": [2, 5], "chosen_input_ids": [2, 5, 7, 1],
                                                 "rejected_input_ids": [2, 5, 8, 1]])
        #expect(p.chosenLabels == [-100, -100, 7, 1])
        #expect(throws: PairInputError.self) {
            try TrainingPairReader.tokenIDs(["prompt_input_ids": [2, 5], "chosen_input_ids": [3, 7, 1],
                                             "rejected_input_ids": [2, 5, 8, 1]])
        }
        #expect(throws: PairInputError.self) {
            try TrainingPairReader.tokenIDs(["prompt_input_ids": [2], "chosen_input_ids": [2, 7], "chosen_labels": [1],
                                             "rejected_input_ids": [2, 8]])
        }
        #expect(throws: PairInputError.self) {
            try TrainingPairReader.tokenIDs(["prompt_input_ids": [2], "chosen_input_ids": ["a"], "rejected_input_ids": [2, 8]])
        }
    }
}
