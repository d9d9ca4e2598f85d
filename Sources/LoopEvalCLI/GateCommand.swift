import ArgumentParser
import CommandLineTool
import Evaluation
import Policy
import Records

/// `loop-eval gate CURRENT CANDIDATE`: the promotion rule (`GateRule`) on two models' judged answers
/// to the same held-out questions; the decision and the figures as one JSON record.
struct GateCommand: PolicySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Decide whether the candidate model replaces the current one.",
        discussion: """
        Both files hold the same labelled held-out questions, answered by one model each and judged. \
        The candidate is promoted when its pass rate is higher than the current model's, it refuses at \
        most the policy's max_false_refusal_rate of the in-scope questions, and no more of them than \
        the current model plus max_false_refusal_increase. Prints the decision with both models' \
        figures as one JSON record. Exit status: 0 promote, 1 keep the current model, 2 bad input \
        (each problem named with its file and line).
        """)

    @Argument(help: ArgumentHelp("The current model's judged answers (JSONL).", valueName: "current"))
    var current: String

    @Argument(help: ArgumentHelp("The candidate model's judged answers to the same questions (JSONL).", valueName: "candidate"))
    var candidate: String

    @OptionGroup var options: PolicyOptions

    @Option(name: .customLong("max-false-refusal"), parsing: .unconditional, help: ArgumentHelp("Override the policy's bound on the share of in-scope questions the candidate may refuse.", valueName: "share"))
    var maxFalseRefusal: Double?

    @Flag(name: .customLong("judge-only"), help: "Decide on the judge's verdicts alone, not the labels where they settle it.")
    var judgeOnly = false

    func validate() throws {
        if let maxFalseRefusal, !(maxFalseRefusal >= 0 && maxFalseRefusal <= 1) {
            throw ValidationError("--max-false-refusal must be a share from 0 to 1")
        }
    }

    func execute(policy: DomainPolicy, diagnostics: Diagnostics) throws -> Int32 {
        guard let figures = self.figures(of: [current, candidate], policy: policy, requiresKnownTopics: true, topicFromJudge: false,
                                    judgeOnly: judgeOnly, diagnostics: diagnostics)
        else { return ExitStatus.fatal }
        let rule = GateRule(policy: policy, maxFalseRefusalRate: maxFalseRefusal)
        let decision = rule.decide(current: figures[0], candidate: figures[1])
        try write(decision.record(rule: rule, policy: policy.name, judgeOnly: judgeOnly, current: figures[0], candidate: figures[1]))
        return decision.promote ? ExitStatus.success : ExitStatus.recordsFailed
    }
}
