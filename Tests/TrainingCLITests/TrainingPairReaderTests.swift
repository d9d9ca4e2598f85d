import Foundation
import Testing
@testable import TrainingCLI

/// orpo-train's pair reader on its own: every bad line is reported with its line and field while the
/// good ones are read, and an input that cannot be read at all is fatal. (Reading the ORPO fixture's
/// pairs exactly as TRL tokenised them is ORPOFixtureTests.tokenisationMatchesTRL.)
@Suite struct TrainingPairReaderTests {
    func reader() throws -> TrainingPairReader {
        TrainingPairReader(tokenizer: try TinyTraining.preferenceTokenizer(),
                           truncation: PairTruncation(maxLength: 64, maxPromptLength: 32),
                           vocabularySize: 128, contextLength: 1024)
    }

    @Test func everyBadLineIsReportedWithItsField() throws {
        let path = try TinyTraining.directory() + "/pairs.jsonl"
        try TinyTraining.write([
            #"{"prompt": "a", "chosen": "b", "rejected": "c", "extra": 1}"#,
            #"{"prompt": "a", "chosen": "b"}"#,
            "not json",
            #"{"prompt": "a", "chosen": 3, "rejected": "c"}"#,
            #"{"prompt": "a", "chosen": "", "rejected": "c"}"#,
        ], to: path)
        let read = try reader().read(paths: [path])
        #expect(read.pairs.count == 1)
        let problems = read.problems.map(\.description)
        #expect(problems.count == 4)
        for (i, (line, text)) in [(2, "field 'rejected': missing"), (3, "not a JSON object"),
                                  (4, "field 'chosen': must be a string"), (5, "field 'chosen': is empty")].enumerated() {
            #expect(problems.indices.contains(i) && problems[i].contains(":line \(line): \(text)"), "\(problems)")
        }
    }

    @Test func missingFileIsFatal() throws {
        let reader = try reader()
        #expect(throws: TrainingPairReader.Unreadable.self) { try reader.read(paths: ["/nonexistent/pairs.jsonl"]) }
    }
}
