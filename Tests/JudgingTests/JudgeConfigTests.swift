import Records
import Testing
@testable import Judging

@Suite struct JudgeConfigTests {
    @Test func readsEveryExampleConfig() throws {
        let banking = try Fixture.judge("restrict-to-banking.json")
        #expect(banking.name == "restrict_to_banking")
        #expect(banking.gradingType == .single)
        #expect(banking.scale.labels == ["0", "1"])
        #expect(banking.examples.count == 6)
        #expect(banking.passThreshold == 1)

        let relevance = try Fixture.judge("answer-relevance.json")
        #expect(relevance.scale.labels == ["1", "2", "3", "4", "5"])
        #expect(relevance.passThreshold == 4)

        let hallucination = try Fixture.judge("hallucination.json")
        #expect(hallucination.gradingType == .reference)
        #expect(hallucination.recordField(for: "reference") == "context")
        #expect(hallucination.promptFields == ["question", "answer", "reference"])

        let naive = try Fixture.judge("restrict-to-banking-naive.json")
        #expect(naive.gradingType == .custom)
        #expect(naive.scale.labels == ["0", "1"])
        #expect(naive.promptFields == ["question", "answer"])

        _ = try Fixture.judge("moderation.json")
    }

    func error(_ json: String) -> JudgeError? {
        do {
            guard let object = try JSONParser.parse(json).object else { return nil }
            _ = try JudgeConfig(json: object, source: "test.json")
            return nil
        } catch let e as JudgeError {
            return e
        } catch {
            return nil
        }
    }

    func field(_ json: String) -> String? {
        if case let .invalidConfig(_, field, _)? = error(json) { return field }
        return nil
    }

    let rubric = #""definition": "d", "rubric": {"0": "bad", "1": "good"}"#

    @Test func malformedConfigsNameTheField() {
        #expect(field(#"{"grading_type": "single"}"#) == "name")
        #expect(field(#"{"name": "", "grading_type": "single"}"#) == "name")
        #expect(field(#"{"name": "Bad Name", "grading_type": "single"}"#) == "name")
        #expect(field(#"{"name": "m", "grading_type": "triple"}"#) == "grading_type")
        #expect(field(#"{"name": "m", "grading_type": 3}"#) == "grading_type")
        #expect(field(#"{"name": "m", "grading_type": "single", "rubric": {"0": "a", "1": "b"}}"#) == "definition")
        #expect(field(#"{"name": "m", "grading_type": "single", "definition": "d", "rubric": {"x": "a"}}"#) == "rubric")
        #expect(field(#"{"name": "m", "grading_type": "single", "definition": "d", "rubric": {"1": "a"}}"#) == "rubric")
        #expect(field(#"{"name": "m", "grading_type": "single", "definition": "d", "rubric": ["a"]}"#) == "rubric")
        #expect(field(#"{"name": "m", "grading_type": "single", \#(rubric), "pass_threshold": "1"}"#) == "pass_threshold")
        #expect(field(#"{"name": "m", "grading_type": "single", \#(rubric), "record_fields": {"answer": 3}}"#) == "record_fields.answer")
        #expect(field(#"{"name": "m", "grading_type": "single", \#(rubric), "examples": [{"question": "q", "answer": "a", "score": 5}]}"#) == "examples[0].score")
        #expect(field(#"{"name": "m", "grading_type": "single", \#(rubric), "examples": [{"question": "q"}]}"#) == "examples[0].score")
        #expect(field(#"{"name": "m", "grading_type": "single", \#(rubric), "examples": {}}"#) == "examples")
        #expect(field(#"{"name": "m", "grading_type": "custom"}"#) == "template")
        #expect(field(#"{"name": "m", "grading_type": "custom", "template": "{question} {answr}"}"#) == "template")
        #expect(field(#"{"name": "m", "grading_type": "custom", "template": "{answer}", "scores": []}"#) == "scores")
        #expect(field(#"{"name": "m", "grading_type": "check"}"#) == "check")
        #expect(field(#"{"name": "m", "grading_type": "check", "check": {"type": "regex", "pattern": "("}}"#) == "check.pattern")
        #expect(field(#"{"name": "m", "grading_type": "check", "check": {"type": "length", "min": 5, "max": 2}}"#) == "check.max")
        #expect(field(#"{"name": "m", "grading_type": "check", "check": {"type": "no_ssn"}}"#) == "check.type")
    }

    @Test func unreadableFiles() throws {
        let scratch = try ScratchDirectory()
        let notJSON = try scratch.write("bad.json", lines: ["{\"name\": "])
        let notObject = try scratch.write("list.json", lines: ["[1, 2]"])
        for path in [notJSON, notObject, scratch.path + "/missing.json"] {
            #expect(throws: JudgeError.self) { try JudgeConfig.load(path: path) }
        }
        do {
            _ = try JudgeConfig.load(path: notObject)
        } catch let e as JudgeError {
            #expect(e.description.contains("list.json"))
            #expect(e.description.contains("expected a JSON object, found array"))
        }
        // A directory where the config belongs: the system's reason, no Foundation error dump.
        do {
            _ = try JudgeConfig.load(path: scratch.path)
            Issue.record("a directory was read as a judge config")
        } catch let e as JudgeError {
            #expect(e.description == "\(scratch.path): cannot read: Is a directory", "\(e.description)")
        }
    }

    @Test func customScoresAndChecks() throws {
        let custom = try JudgeConfig(json: try #require(JSONParser.parse(
            #"{"name": "c", "grading_type": "custom", "template": "Rate {answer} from 1 to 3 {\"score\": n}", "scores": [3, 1, 2]}"#).object),
            source: "t")
        #expect(custom.scale.labels == ["1", "2", "3"])
        #expect(custom.promptFields == ["answer"])
        let check = try JudgeConfig(json: try #require(JSONParser.parse(
            #"{"name": "short", "grading_type": "check", "check": {"type": "length", "max": 10}}"#).object), source: "t")
        #expect(check.check == .length(min: nil, max: 10))
    }
}
