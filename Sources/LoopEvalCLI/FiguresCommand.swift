import ArgumentParser
import CommandLineTool
import Evaluation
import Policy
import Records

/// `loop-eval figures [FILE ...]`: pass and refusal figures of judged answers, overall and per
/// topic, by the policy's rule and by the judge, as one JSON record (scripts/loop-report's traffic
/// table).
struct FiguresCommand: PolicySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "figures",
        abstract: "Pass and refusal figures of judged answers, per topic, by the policy's rule and by the judge.",
        discussion: """
        Reads judged records (traffic or a labelled split) and prints one JSON record: the counts and \
        rates overall and per topic. A record without a label, or with one the policy does not list, is \
        counted under its label ('unknown' when none) and passes by the judge's verdict alone. A record \
        that cannot be read is reported with its file and line and left out (exit status 1).
        """)

    @Argument(help: ArgumentHelp("Judged answers (JSONL); '-' or none reads standard input.", valueName: "file"))
    var inputs: [String] = []

    @OptionGroup var options: PolicyOptions

    func execute(policy: DomainPolicy, diagnostics: Diagnostics) throws -> Int32 {
        let set = AnswerSet(paths: inputs, policy: policy, settings: options.settings(for: policy, requiresKnownTopics: false))
        let unreadable = set.problems.filter { $0.location == nil }
        guard unreadable.isEmpty else { throw FatalError(unreadable.map(\.message).joined(separator: "; ")) }
        for problem in set.problems { diagnostics.error(problem.message, at: problem.location) }
        try write(EvaluationFigures(answers: set.answers, topics: policy.topics).json)
        return set.problems.isEmpty ? ExitStatus.success : ExitStatus.recordsFailed
    }
}
