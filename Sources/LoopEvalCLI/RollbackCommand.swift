import ArgumentParser
import CommandLineTool
import Evaluation
import Policy
import Records

/// `loop-eval rollback BEFORE AFTER`: the rollback rule (`RollbackRule`) on the judged traffic of
/// the window before a deploy and the window after it; the decision and the figures as one record.
struct RollbackCommand: PolicySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Decide whether a promoted model is rolled back, from the traffic before and after its deploy.",
        discussion: """
        BEFORE holds the judged traffic of the last window before the deploy, AFTER that of the first \
        window after it. When AFTER has at least --min-records judged records, the previous model is \
        restored if the pass rate fell by more than --max-pass-rate-drop, or if the in-scope questions \
        refused exceed the policy's gate bound (max_false_refusal_rate). Records are scored as by \
        'figures'. Prints the decision with both windows' figures as one JSON record. Exit status: 0 \
        roll back, 1 keep the deployed model, 2 bad input (each problem named with its file and line).
        """)

    @Argument(help: ArgumentHelp("Judged traffic of the window before the deploy (JSONL).", valueName: "before"))
    var before: String

    @Argument(help: ArgumentHelp("Judged traffic of the window after the deploy (JSONL).", valueName: "after"))
    var after: String

    @OptionGroup var options: PolicyOptions

    @OptionGroup var judgeTopic: JudgeTopicOption

    @Option(name: .customLong("max-pass-rate-drop"), parsing: .unconditional, help: ArgumentHelp("The largest fall of the pass rate that keeps the deployed model (a share, e.g. 0.1).", valueName: "share"))
    var maxPassRateDrop: Double

    @Option(name: .customLong("min-records"), parsing: .unconditional, help: ArgumentHelp("Judged records the window after the deploy needs before the rule acts.", valueName: "n"))
    var minRecords: Int

    func validate() throws {
        if !(maxPassRateDrop >= 0 && maxPassRateDrop <= 1) {
            throw ValidationError("--max-pass-rate-drop must be a share from 0 to 1")
        }
        if minRecords < 1 { throw ValidationError("--min-records must be at least 1") }
    }

    func execute(policy: DomainPolicy, diagnostics: Diagnostics) throws -> Int32 {
        guard let figures = self.figures(of: [before, after], policy: policy, requiresKnownTopics: false,
                                            topicFromJudge: judgeTopic.judgeTopic, diagnostics: diagnostics)
        else { return ExitStatus.fatal }
        let rule = RollbackRule(thresholds: RollbackThresholds(maxPassRateDrop: maxPassRateDrop, minRecords: minRecords),
                                policy: policy)
        let decision = rule.decide(before: figures[0], after: figures[1])
        try write(decision.record(rule: rule, policy: policy.name, before: figures[0], after: figures[1]))
        return decision.rollback ? ExitStatus.success : ExitStatus.recordsFailed
    }
}
