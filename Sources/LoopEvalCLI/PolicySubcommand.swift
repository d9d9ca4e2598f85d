import ArgumentParser
import CommandLineTool
import Evaluation
import Policy
import Records

/// What `gate` and `figures` share: the policy loaded from the shared flags, one record written to
/// standard output, and every error reported the one way (`loop-eval: error: ...`, status 2).
protocol PolicySubcommand: ParsableCommand {
    var options: PolicyOptions { get }

    /// Does the work with the loaded policy and returns the exit status; a thrown error is fatal.
    func execute(policy: DomainPolicy, diagnostics: Diagnostics) throws -> Int32
}

extension PolicySubcommand {
    func run() throws {
        let diagnostics = Diagnostics(tool: "loop-eval")
        let status: Int32
        do {
            status = try execute(policy: try options.loadPolicy(), diagnostics: diagnostics)
        } catch JSONLWriter.Failure.brokenPipe {
            status = ExitStatus.success
        } catch {
            diagnostics.error("\(error)")
            status = ExitStatus.fatal
        }
        if status != ExitStatus.success { throw ExitCode(status) }
    }

    /// The figures of each of `paths` (one file each), or nil when a record of any could not be read:
    /// each problem is then reported with its file and line.
    func figures(of paths: [String], policy: DomainPolicy, requiresKnownTopics: Bool, topicFromJudge: Bool,
                 judgeOnly: Bool = false, diagnostics: Diagnostics) -> [EvaluationFigures]? {
        let settings = options.settings(for: policy, requiresKnownTopics: requiresKnownTopics, topicFromJudge: topicFromJudge)
        let sets = paths.map { AnswerSet(paths: [$0], policy: policy, settings: settings) }
        let problems = sets.flatMap(\.problems)
        for problem in problems { diagnostics.error(problem.message, at: problem.location) }
        guard problems.isEmpty else { return nil }
        return sets.map { EvaluationFigures(answers: $0.answers, topics: policy.topics, judgeOnly: judgeOnly) }
    }

    /// Writes `record` as the one line of standard output.
    func write(_ record: JSONObject) throws {
        let writer = JSONLWriter.standardOutput()
        try writer.write(record)
        try writer.flush()
    }
}
