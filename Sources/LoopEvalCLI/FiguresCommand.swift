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
        rates overall and per topic. A record without a label takes the topic the judge's topic node \
        decided, when its verdict has one (topics_from_judge counts them; --no-judge-topic turns this \
        off), so traffic whose clients sent no metadata is still scored by the rule. A record with \
        neither, or with a label the policy does not list, is counted under its label ('unknown' when \
        none) and passes by the judge's verdict alone. A record \
        that cannot be read is reported with its file and line and left out (exit status 1).
        """)

    @Argument(help: ArgumentHelp("Judged answers (JSONL); '-' or none reads standard input.", valueName: "file"))
    var inputs: [String] = []

    @OptionGroup var options: PolicyOptions

    @OptionGroup var judgeTopic: JudgeTopicOption

    func execute(policy: DomainPolicy, diagnostics: Diagnostics) throws -> Int32 {
        let set = AnswerSet(paths: inputs, policy: policy, settings: options.settings(for: policy, requiresKnownTopics: false,
                                                                                  topicFromJudge: judgeTopic.judgeTopic))
        let unreadable = set.problems.filter { $0.location == nil }
        guard unreadable.isEmpty else { throw FatalError(unreadable.map(\.message).joined(separator: "; ")) }
        for problem in set.problems { diagnostics.error(problem.message, at: problem.location) }
        try write(EvaluationFigures(answers: set.answers, topics: policy.topics).json)
        return set.problems.isEmpty ? ExitStatus.success : ExitStatus.recordsFailed
    }
}
