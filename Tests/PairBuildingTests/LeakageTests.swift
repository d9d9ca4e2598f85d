import CommandLineTool
import Foundation
import OrpoPairsCLI
import Policy
import Records
import Testing
import TestSupport
@testable import PairBuilding

/// No evaluation prompt may reach a training file: checked on the committed banking data, with the
/// evaluation prompts offered to the tool every way they could get in.
@Suite("orpo-pairs on examples/banking: no evaluation prompt in the training pairs")
struct LeakageTests {
    let banking = repositoryRoot + "/examples/banking"

    /// The demo traffic (examples/banking/source/traffic-questions.jsonl, which has the topics) as
    /// judged records: every answer failed, half with the topic in the record, half in the verdict.
    func judgedTraffic() throws -> [JSONObject] {
        let rows = try PreferenceFile.read(
            paths: [banking + "/source/traffic-questions.jsonl"],
            requiring: .init(chosen: false, rejected: false, questionFallback: true))
        #expect(rows.count == 48)
        return rows.enumerated().map { i, row in
            i.isMultiple(of: 2)
                ? TestRecords.judged(id: "gen-\(i)", question: row.prompt, answer: "Here you go!", topic: row.topic)
                : TestRecords.judged(id: "gen-\(i)", question: row.prompt, answer: "Here you go!", verdictTopic: row.topic)
        }
    }

    func evaluationPrompts() throws -> [PreferenceRow] {
        try PreferenceFile.read(paths: [banking + "/eval.jsonl"], requiring: .init(chosen: true, rejected: true))
    }

    func trainingPrompts(in path: String) throws -> [String] {
        try PreferenceFile.read(paths: [path], requiring: .init(chosen: true, rejected: true)).map(\.prompt)
    }

    @Test(arguments: PairFormat.allCases)
    func trafficAndTrainSplitGiveNoEvaluationPrompt(format: PairFormat) throws {
        let dir = try TemporaryDirectory()
        let traffic = try dir.write("judged.jsonl", records: try judgedTraffic())
        let train = banking + "/train.jsonl"
        let command = try OrpoPairsCommand.parse([
            traffic, "--reference", train, "--mix", train, "--mix-ratio", "3", "--held-out", banking + "/eval.jsonl",
            "--format", format.rawValue, "--seed", "5", "-o", dir.file("pairs.jsonl"), "--summary", dir.file("summary.json"),
        ])
        let status = command.execute(diagnostics: Diagnostics(tool: "orpo-pairs") { _ in }, apiKey: nil)
        #expect(status != ExitStatus.fatal)
        let written = try trainingPrompts(in: dir.file("pairs.jsonl"))
        #expect(written.count > 48)
        let evaluation = Set(try evaluationPrompts().map { TextNormalization.normalize($0.prompt) })
        #expect(evaluation.count == 104)
        #expect(written.filter { evaluation.contains(TextNormalization.normalize($0)) }.isEmpty)
        // Every off-topic traffic question became a refusal pair.
        let summary = try #require(try dir.records("summary.json").first)
        #expect(summary.value(atPath: "chosen_from.refusal_policy") == 24)
    }

    /// The evaluation prompts offered as traffic (reworded in case and punctuation), as reference
    /// answers and as a base dataset: every one is refused, and the count says so.
    @Test func evaluationPromptsOfferedEveryWayAreRefused() throws {
        let dir = try TemporaryDirectory()
        let evaluationRows = try evaluationPrompts()
        let leakedTraffic = evaluationRows.enumerated().map { i, row in
            TestRecords.judged(id: "leak-\(i)", question: row.prompt.uppercased() + " ?!", answer: "Whatever.",
                               topic: row.topic)
        }
        let traffic = try dir.write("judged.jsonl", records: try judgedTraffic() + leakedTraffic)
        let train = banking + "/train.jsonl", eval = banking + "/eval.jsonl"
        let command = try OrpoPairsCommand.parse([
            traffic, "--reference", train, "--reference", eval, "--base", train, "--base", eval,
            "--eval", eval, "-o", dir.file("pairs.jsonl"), "--summary", dir.file("summary.json"),
        ])
        var lines: [String] = []
        _ = command.execute(diagnostics: Diagnostics(tool: "orpo-pairs") { lines.append($0) }, apiKey: nil)
        let evaluation = Set(evaluationRows.map { TextNormalization.normalize($0.prompt) })
        let written = try trainingPrompts(in: dir.file("pairs.jsonl"))
        #expect(written.filter { evaluation.contains(TextNormalization.normalize($0)) }.isEmpty)
        let summary = try #require(try dir.records("summary.json").first)
        #expect(summary.value(atPath: "reasons.leaked") == 104)
        #expect(summary.value(atPath: "base.leaked") == 104)
        #expect(summary["leaked"] == 208)
        #expect(lines.contains("orpo-pairs: refused 208 prompts found in the evaluation set"))
    }
}
