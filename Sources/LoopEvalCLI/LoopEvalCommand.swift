import ArgumentParser
import CommandLineTool

/// `loop-eval`: the loop's evaluation by a deployment's policy, for scripts. man/loop-eval.1
/// documents the same options.
public struct LoopEvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "loop-eval",
        abstract: "Evaluate judged answers by a deployment's policy: the promotion gate, the rollback rule and per-topic figures.",
        discussion: """
        The policy file (--policy; default the bank's, examples/banking/policy.json) names the judge \
        metric, the topics in and out of scope, the wordings that count as a refusal, and the gate's \
        bounds. Where a question's label settles its verdict the label is used: an out-of-scope question \
        passes exactly when the answer refuses, a refused in-scope question fails; the judge decides \
        an answered in-scope question, and any question without a known label. figures and rollback, \
        which read traffic, give a record without a label the topic the judge's topic node decided \
        (--no-judge-topic: none); the gate needs labels. Exit status: gate 0 \
        promote, 1 keep the current model, 2 bad input; rollback 0 roll back, 1 keep the deployed \
        model, 2 bad input; figures 0, 1 some records could not be read, 2 fatal.
        """,
        version: ToolVersion.current,
        subcommands: [GateCommand.self, RollbackCommand.self, FiguresCommand.self])

    public init() {}

    /// Without a subcommand there is nothing to evaluate: a usage error (exit 2), as for any other
    /// missing argument, so that a script that lost its subcommand does not read as "promote".
    public func run() throws {
        throw ValidationError("give a subcommand: gate, rollback or figures (loop-eval --help lists them)")
    }
}
