import Foundation
import Records
import Testing
@testable import Policy

@Suite struct RefusalDetectorTests {
    let detector = DomainPolicy.banking.detector

    /// The bank's sentence and the other declines its policy lists, however they are cased, spaced
    /// and punctuated.
    @Test(arguments: [
        "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?",
        "as a banking agent i am not allowed to talk on this subject is there anything else i can help with",
        "  AS A BANKING AGENT,\nI am NOT allowed to talk on this subject!!  ",
        "I'm not allowed to talk on this subject.",
        "Sorry, I am not permitted to speak about that topic.",
        "I'm not allowed to talk about this subject, sorry.",
        "I can only help with banking questions.",
        "Sorry — I can only answer questions about banking.",
        "I am not allowed to talk on this subjects",  // a substring of the normalised answer, as before
    ])
    func theWordingsOfThePolicyAreRefusals(answer: String) {
        #expect(detector.isRefusal(answer), "\(answer)")
    }

    @Test(arguments: [
        "As a banking agent, you can order a new card in the app.",
        "You are not allowed to talk on the phone in the branch.",
        "Paris is the capital of France.",
        "",
    ])
    func otherAnswersAreNot(answer: String) {
        #expect(!detector.isRefusal(answer), "\(answer)")
    }

    /// The known hard case: the answer declines, then answers anyway. The detector finds the decline
    /// and calls it a refusal (what follows is the judge's business), as documented on
    /// `RefusalDetector`.
    @Test func aDeclineFollowedByAnAnswerIsARefusal() {
        let answer = "As a banking agent, I am not allowed to talk on this subject. That said, Paris is the capital of France."
        #expect(detector.match(in: answer) == RefusalDetector.Match(wording: "not allowed to talk on this subject", field: "phrases[0]"))
    }

    @Test func theMatchNamesTheWording() {
        #expect(detector.match(in: DomainPolicy.banking.refusal.text)?.field == "text")
        #expect(detector.match(in: "I can't, I'm not permitted to talk about this topic")?.field == "patterns[0]")
    }

    /// On every answer of the bank's data (preference rows, judge records, fixtures), the detector
    /// finds the refusals the loop's rule found before the policy was a file (the lowercased answer,
    /// whitespace collapsed, contains "not allowed to talk on this subject"): its other wordings do
    /// not turn a banking answer or an off-topic answer into a refusal. The node-labelled judge
    /// records (they carry `node_labels`) refuse in many other words, so the old rule is no truth
    /// for them; on them, every answer the detector calls a refusal is labelled declined, or is a
    /// refusal that answers anyway (`family.kind` "leak", the hard case above).
    @Test func itAgreesWithThePreviousRuleOnTheBanksData() throws {
        let files = try FileManager.default.subpathsOfDirectory(atPath: repositoryRoot + "/examples/banking")
            .filter { $0.hasSuffix(".jsonl") }.map { repositoryRoot + "/examples/banking/" + $0 }
        var compared = 0, refusals = 0, nodeRecords = 0, nodeRefusals = 0
        for item in JSONLReader(paths: files) {
            guard case let .record(record, location) = item else { continue }
            if let declined = record.value(atPath: "node_labels.declined")?.int,
               let answer = record["answer"]?.string {
                nodeRecords += 1
                guard detector.isRefusal(answer) else { continue }
                nodeRefusals += 1
                let leak = record.value(atPath: "family.kind")?.string == "leak"
                #expect(declined == 1 || leak, "\(location): \(answer)")
                continue
            }
            for field in ["answer", "chosen", "rejected"] {
                guard let answer = record[field]?.string else { continue }
                let before = answer.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    .contains("not allowed to talk on this subject")
                #expect(detector.isRefusal(answer) == before, "\(location) \(field): \(answer)")
                compared += 1
                if before { refusals += 1 }
            }
        }
        #expect(compared > 5000 && refusals > 1000, "\(compared) answers, \(refusals) refusals")
        #expect(nodeRecords > 4000 && nodeRefusals > 500, "\(nodeRecords) node records, \(nodeRefusals) refusals")
    }

    @Test func patternsSeeTheNormalisedAnswer() throws {
        let detector = try RefusalDetector(RefusalWordings(
            text: "Nope.", phrases: [], patterns: [#"\bcannot (help|assist) with (that|this)\b"#]))
        #expect(detector.isRefusal("I CANNOT assist with... this, sorry"))
        #expect(detector.isRefusal("Nope!"))
        #expect(!detector.isRefusal("I cannot helpwith that"))
    }
}
