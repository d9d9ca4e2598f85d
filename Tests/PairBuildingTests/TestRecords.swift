import Foundation
import Records
@testable import PairBuilding

/// Judged traffic records as `judge` writes them, built in the tests.
enum TestRecords {
    static func judged(
        id: String? = nil, question: String, answer: String = "Sure, here is the answer.", score: JSONValue = 0,
        status: String = "ok", pass: JSONValue? = nil, verdictTopic: String? = nil, topic: String? = nil
    ) -> JSONObject {
        var verdict: JSONObject = ["score": score, "status": .string(status)]
        verdict["pass"] = pass ?? (score.double.map { JSONValue($0 >= 1) } ?? .null)
        verdict["explanation"] = "judged in a test"
        if let verdictTopic { verdict["topic"] = .string(verdictTopic) }
        var record = JSONObject()
        if let id { record["id"] = .string(id) }
        record["question"] = .string(question)
        record["answer"] = .string(answer)
        record["model"] = "gemma-3-270m"
        if let topic { record["topic"] = .string(topic) }
        record["restrict_to_banking"] = .object(verdict)
        return record
    }

    static func location(_ line: Int) -> RecordLocation { RecordLocation(source: "traffic.jsonl", line: line) }

    static let refusal = PairBuildingSettings.defaultRefusal

    static func references(_ pairs: [(String, String)]) -> ReferenceAnswers {
        var answers = ReferenceAnswers()
        for (prompt, answer) in pairs { answers.add(prompt: prompt, answer: answer) }
        return answers
    }

    static func builder(
        references: ReferenceAnswers = ReferenceAnswers(), evaluation: Set<String> = [],
        configure: (inout PairBuildingSettings) -> Void = { _ in }
    ) -> PairBuilder {
        var settings = PairBuildingSettings()
        configure(&settings)
        return PairBuilder(settings: settings, chosenSource: PolicyAnswers(references: references),
                           evaluationPrompts: evaluation)
    }

    static func row(_ prompt: String, _ chosen: String = "A good answer.", _ rejected: String = "A bad answer.", line: Int = 1) -> PreferenceRow {
        PreferenceRow(prompt: prompt, chosen: chosen, rejected: rejected, location: RecordLocation(source: "base.jsonl", line: line))
    }
}

/// The repository root, for tests that check the committed example data and man page.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
