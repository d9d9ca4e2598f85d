import Foundation
import Gemma
import Records
import Testing
@testable import Judging

@Suite struct JudgeTrainingPairsTests {
    static let custom = JudgeConfig(name: "on_topic", gradingType: .custom,
                                    template: "Question: {question}\nAnswer: {answer}\nReply 1 or 0.", source: "test")

    @Test func aBinaryLabelMakesOnePairWithTheOtherScoreRejected() throws {
        let maker = try JudgeTrainingPairs(config: Self.custom, labelField: "label")
        let pairs = try maker.pairs(for: ["id": "r1", "question": "What is APR?", "answer": "The yearly rate.", "label": 1])
        #expect(pairs.count == 1)
        let pair = try #require(pairs.first)
        #expect(pair["chosen"] == "1" && pair["rejected"] == "0" && pair["id"] == "r1")
        // The prompt is the chat template's text without <bos>, ending where the model's reply starts.
        #expect(pair["prompt"]?.string == "<start_of_turn>user\nQuestion: What is APR?\nAnswer: The yearly rate.\nReply 1 or 0.<end_of_turn>\n<start_of_turn>model\n")
        let zero = try maker.pairs(for: ["question": "q", "answer": "a", "label": "0"])
        #expect(zero.first?["chosen"] == "0" && zero.first?["rejected"] == "1" && zero.first?["id"] == nil)
    }

    @Test func aRubricJudgeGetsAPairPerWrongScoreInsideItsJSONReply() throws {
        let config = JudgeConfig(name: "relevance", gradingType: .single, definition: "How relevant.",
                                 rubric: ["1", "2", "3", "4", "5"].map { ($0, "level \($0)") }, source: "test")
        let pairs = try JudgeTrainingPairs(config: config, labelField: "human").pairs(
            for: ["question": "q", "answer": "a", "human": 4.0])
        #expect(pairs.map { $0["rejected"]?.string } == ["1}", "2}", "3}", "5}"])
        #expect(pairs.allSatisfy { $0["chosen"] == "4}" })
        // The system prompt is folded into the user turn, and the reply's opening ends the prompt.
        let prompt = try #require(pairs.first?["prompt"]?.string)
        #expect(prompt.hasPrefix("<start_of_turn>user\nYou are a strict and impartial judge"))
        #expect(prompt.hasSuffix("<start_of_turn>model\n{\"score\": "))
    }

    @Test func recordsThatCannotBecomePairsSayWhy() throws {
        let maker = try JudgeTrainingPairs(config: Self.custom, labelField: "label")
        #expect(throws: RecordError("the record has no label field \"label\"")) {
            try maker.pairs(for: ["question": "q", "answer": "a"])
        }
        // Issue 20, item 9: question and answer are text in judge as in gemma-infer; a number is refused.
        #expect(throws: RecordError("field \"answer\" (the answer of the prompt) must be a string, got number")) {
            try maker.pairs(for: ["question": "q", "answer": 42, "label": 1])
        }
        #expect(throws: RecordError("field \"question\" (the question of the prompt) must be a string, got number")) {
            try maker.pairs(for: ["question": 1.5, "answer": "a", "label": 1])
        }
        #expect(throws: RecordError("field \"label\": 7 is not one of the scores 0 or 1")) {
            try maker.pairs(for: ["question": "q", "answer": "a", "label": 7])
        }
        #expect(throws: RecordError("field \"label\": [1] is not one of the scores 0 or 1")) {
            try maker.pairs(for: ["question": "q", "answer": "a", "label": [1]])
        }
        #expect(throws: RecordError("the record has no field \"answer\" (the answer of the prompt)")) {
            try maker.pairs(for: ["question": "q", "label": 1])
        }
    }

    @Test func checksAndPairwiseJudgesHaveNothingToTrain() throws {
        let check = JudgeConfig(name: "json", gradingType: .check, check: try Check(flag: "valid_json"), source: "--check")
        #expect(throws: JudgeError.self) { try JudgeTrainingPairs(config: check, labelField: "label") }
        let pairwise = JudgeConfig(name: "better", gradingType: .pairwise, definition: "Which is better.", source: "test")
        #expect(throws: JudgeError.self) { try JudgeTrainingPairs(config: pairwise, labelField: "label") }
    }

    @Test func aConfigNamesItsAdapterRelativeToItself() throws {
        let json: JSONObject = ["name": "x", "grading_type": "custom", "template": "{question} {answer}",
                                "local_adapter": "adapters/x.tar.gz"]
        let config = try JudgeConfig(json: json, source: "/srv/judges/x.json")
        #expect(config.localAdapter == "/srv/judges/adapters/x.tar.gz")
        var absolute = json
        absolute["local_adapter"] = "/opt/a"
        #expect(try JudgeConfig(json: absolute, source: "/srv/judges/x.json").localAdapter == "/opt/a")
        absolute["local_adapter"] = 3
        #expect(throws: JudgeError.invalidConfig(source: "/srv/judges/x.json", field: "local_adapter", message: "expected a path, found number")) {
            try JudgeConfig(json: absolute, source: "/srv/judges/x.json")
        }
    }
}
