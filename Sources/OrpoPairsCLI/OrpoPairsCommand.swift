import ArgumentParser
import CommandLineTool
import HTTPClient
import PairBuilding
import Policy
import Records

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `orpo-pairs` command line. It lives in the library, with the executable a one-line entry
/// point, so that tests run the real command in-process. man/orpo-pairs.1 documents the same options.
public struct OrpoPairsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orpo-pairs",
        abstract: "Turn judged traffic into ORPO preference pairs (prompt, chosen, rejected) with provenance.",
        discussion: """
        Records the judge failed become pairs: the model's own answer is "rejected"; "chosen" is the \
        policy's refusal text for out-of-scope (off-topic) questions; for in-scope (banking) questions \
        the reference answer, else (with --judged-answers) a neighbouring question's reference answer or \
        a sampled answer that the judge passed; or a teacher model's answer with --teacher-url. The policy \
        (--policy) is the bank's unless a file is given. Prompts are deduplicated after normalisation, \
        prompts of the --held-out files are refused, a --mix dataset can be mixed in, and the output is \
        shuffled with --seed. A summary of what became of every record goes to stderr. Exit status: 0 \
        all went well, 1 some records could not become pairs (malformed, no reference, unknown topic, \
        teacher error), 2 fatal error.
        """,
        version: ToolVersion.current)

    @Argument(help: ArgumentHelp("Judged traffic JSONL files; '-' or none reads standard input.", valueName: "file"))
    public var inputs: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the pairs to this file instead of standard output.", valueName: "file"))
    public var output: String?

    @Option(help: "Output form: text (strings) or messages (chat messages).")
    public var format: PairFormat = .text

    @Option(help: ArgumentHelp("The deployment's policy: the metric, the topics in and out of scope, the refusal text (default: the bank's, as examples/banking/policy.json).", valueName: "file"))
    public var policy: String?

    @Option(help: ArgumentHelp("The judge metric whose verdict object selects records (default: the policy's; a dotted path reaches a nested one).", valueName: "name"))
    public var metric: String?

    @Option(name: .customLong("pass-threshold"), parsing: .unconditional, help: ArgumentHelp("Select records whose score is below this (default: the records the judge failed, pass false).", valueName: "score"))
    public var passThreshold: Double?
    @Option(name: .customLong("threshold"), parsing: .unconditional, help: .hidden)
    var oldThreshold: Double?

    /// `--pass-threshold`, or its old spelling `--threshold`.
    public var threshold: Double? { passThreshold ?? oldThreshold }

    @Option(name: .customLong("question-field"), help: "The field holding the user's question (the pair's prompt).")
    public var questionField = "question"

    @Option(name: .customLong("answer-field"), help: "The field holding the model's answer (the pair's rejected).")
    public var answerField = "answer"

    @Option(name: .customLong("id-field"), help: "The field kept as source_id (file:line when absent).")
    public var idField = "id"

    @Option(name: .customLong("topic-field"), help: "The record field holding one of the policy's topics (banking or off_topic); else the verdict's topic, else its topic node's decision (<metric>.nodes.topic.decision).")
    public var topicField = "topic"

    @Option(help: ArgumentHelp("The refusal text taught for out-of-scope questions (default: the policy's).", valueName: "text"))
    public var refusal: String?

    @Option(help: ArgumentHelp("Reference answers (prompt, chosen rows) for banking questions (repeatable).", valueName: "file"))
    public var reference: [String] = []

    @Option(name: .customLong("neighbour-overlap"), parsing: .unconditional, help: ArgumentHelp("The least word overlap (0 to 1) of a reference question with a banking question for its answer to be tried (default 0.7, chosen on validation.jsonl; see the man page).", valueName: "share"))
    public var neighbourOverlap: Double = PolicyAnswers.defaultNeighbourOverlap

    @Option(name: .customLong("judged-answers"), help: ArgumentHelp("Judged answers to the traffic's questions (a neighbour's reference answer, sampled answers): those that pass may become chosen (repeatable).", valueName: "file"))
    public var judgedAnswers: [String] = []

    @Option(name: .customLong("to-judge"), help: ArgumentHelp("Write the banking questions left without a chosen answer, with their neighbour's answer when one is above --neighbour-overlap, for judging and --judged-answers.", valueName: "file"))
    public var toJudge: String?

    @Option(name: .customLong("teacher-url"), help: ArgumentHelp("An OpenAI-compatible endpoint (base URL, e.g. http://host:8080/v1) whose answers become chosen; key from OPENAI_API_KEY.", valueName: "url"))
    public var teacherURL: String?

    @Option(name: .customLong("teacher-model"), help: "The model name sent to the teacher.")
    public var teacherModel: String?

    @Option(name: .customLong("teacher-timeout"), help: ArgumentHelp("Time allowed for each teacher request (120, 120s, 2m).", valueName: "duration"))
    public var teacherTimeout = DurationArgument(seconds: 120)

    @Option(name: .customLong("teacher-attempts"), parsing: .unconditional, help: "Attempts per question, the first included (retries back off exponentially).")
    public var teacherAttempts = 4

    @Option(name: .customLong("teacher-max-tokens"), parsing: .unconditional, help: "Tokens the teacher may generate per answer.")
    public var teacherMaxTokens = 512

    @Option(name: .customLong("held-out"), help: ArgumentHelp("Held-out (evaluation) files whose prompts (normalised) must not be trained on (repeatable).", valueName: "file"))
    public var heldOut: [String] = []
    @Option(name: .customLong("eval"), help: .hidden)
    var oldHeldOut: [String] = []

    /// `--held-out` files, with those given under the old spelling `--eval`.
    public var evaluation: [String] { heldOut + oldHeldOut }

    @Option(help: ArgumentHelp("A preference dataset (prompt, chosen, rejected) to mix in (repeatable).", valueName: "file"))
    public var mix: [String] = []
    @Option(name: .customLong("base"), help: .hidden)
    var oldMix: [String] = []

    /// `--mix` files, with those given under the old spelling `--base`.
    public var base: [String] { mix + oldMix }

    @Option(name: .customLong("mix-ratio"), parsing: .unconditional, help: ArgumentHelp("Mixed-in pairs per traffic pair: round(R x traffic pairs) rows of the --mix dataset are drawn (default: all).", valueName: "R"))
    public var mixRatio: Double?
    @Option(name: .customLong("base-ratio"), parsing: .unconditional, help: .hidden)
    var oldMixRatio: Double?

    /// `--mix-ratio`, or its old spelling `--base-ratio`.
    public var baseRatio: Double? { mixRatio ?? oldMixRatio }

    @Option(parsing: .unconditional, help: "Seed of the shuffle and of the draw of mixed-in rows (default 42, as every tool's).")
    public var seed: UInt64 = DefaultSeed.value

    @Flag(name: .customLong("no-shuffle"), help: "Keep input order: traffic pairs first, then base pairs.")
    public var noShuffle = false

    @Option(help: ArgumentHelp("Also write the summary as JSON to this file.", valueName: "file"))
    public var summary: String?

    public init() {}

    public func validate() throws {
        if (teacherURL == nil) != (teacherModel == nil) {
            throw ValidationError("--teacher-url and --teacher-model go together")
        }
        _ = try OptionAlias.value(passThreshold, "--pass-threshold", old: oldThreshold, "--threshold")
        _ = try OptionAlias.value(mixRatio, "--mix-ratio", old: oldMixRatio, "--base-ratio")
        if let baseRatio, !(baseRatio >= 0 && baseRatio.isFinite) {
            throw ValidationError("--mix-ratio must be a number >= 0")
        }
        if baseRatio != nil && base.isEmpty { throw ValidationError("--mix-ratio needs --mix") }
        if let threshold, !threshold.isFinite { throw ValidationError("--pass-threshold must be a finite number") }
        if teacherAttempts < 1 { throw ValidationError("--teacher-attempts must be >= 1") }
        if teacherMaxTokens < 1 { throw ValidationError("--teacher-max-tokens must be >= 1") }
        if !(teacherTimeout.seconds > 0) { throw ValidationError("--teacher-timeout must be > 0") }
        if refusal?.isEmpty == true { throw ValidationError("--refusal must not be empty") }
        if !(neighbourOverlap > 0 && neighbourOverlap <= 1) {
            throw ValidationError("--neighbour-overlap must be a share above 0 and at most 1")
        }
    }

    public func run() throws {
        let key = getenv("OPENAI_API_KEY").map { String(cString: $0) }
        let status = execute(diagnostics: Diagnostics(tool: "orpo-pairs"), apiKey: key)
        if status != ExitStatus.success { throw ExitCode(status) }
    }

    /// The `--policy` file's policy, or the bank's.
    ///
    /// - Throws: `PolicyError` naming the file and field.
    public func loadPolicy() throws -> DomainPolicy {
        guard let policy else { return DomainPolicy.banking }
        return try DomainPolicy.load(path: policy)
    }

    /// The settings the flags describe over `policy`'s: a flag given overrides the policy.
    public func settings(policy: DomainPolicy) -> PairBuildingSettings {
        var settings = PairBuildingSettings(policy: policy)
        if let metric { settings.metric = metric }
        settings.threshold = threshold
        settings.questionField = questionField
        settings.answerField = answerField
        settings.idField = idField
        settings.topicField = topicField
        if let refusal { settings.refusal = refusal }
        return settings
    }

    /// Runs the command and returns its exit status. `client` carries the teacher's requests (tests
    /// pass one whose retry waits are skipped).
    public func execute(diagnostics: Diagnostics, apiKey: String?, client: HTTPClient = HTTPClient()) -> Int32 {
        do {
            let pairSettings = settings(policy: try loadPolicy())
            let builder = PairBuilder(
                settings: pairSettings,
                chosenSource: try chosenSource(settings: pairSettings, diagnostics: diagnostics, apiKey: apiKey, client: client),
                evaluationPrompts: PairBuilder.normalizedPrompts(of: try PreferenceFile.read(
                    paths: evaluation, requiring: .init(chosen: false, rejected: false, questionFallback: true))))
            let baseRows = try PreferenceFile.read(paths: base, requiring: .init(chosen: true, rejected: true))
            try read(into: builder, diagnostics: diagnostics)
            if let toJudge {
                try writeToJudge(builder.unanswered, source: builder.chosenSource, to: toJudge)
            }
            let pairs = builder.output(base: baseRows, ratio: baseRatio, seed: noShuffle ? nil : seed)
            let summary = builder.summary
            if let requested = summary.baseRequested, requested > summary.basePairs {
                diagnostics.warning("--mix-ratio asked for \(requested) mixed-in pairs; only \(summary.basePairs) eligible rows in the --mix dataset")
            }
            try write(pairs)
            for line in summary.lines { diagnostics.note(line) }
            if let path = self.summary {
                try writeSummary(summary, to: path)
            }
            return summary.errors > 0 ? ExitStatus.recordsFailed : ExitStatus.success
        } catch JSONLWriter.Failure.brokenPipe {
            return ExitStatus.success
        } catch is UnreadableInput {
            return ExitStatus.fatal
        } catch {
            diagnostics.error("\(error)")
            return ExitStatus.fatal
        }
    }

    private func chosenSource(settings: PairBuildingSettings, diagnostics: Diagnostics, apiKey: String?, client: HTTPClient) throws -> ChosenAnswerSource {
        if let teacherURL, let teacherModel {
            if !reference.isEmpty {
                diagnostics.warning("--reference is not used: with --teacher-url the teacher answers every selected record")
            }
            let retry = RetryPolicy(maxAttempts: teacherAttempts)
            return TeacherModel(
                baseURL: teacherURL, model: teacherModel, apiKey: apiKey, systemPrompt: settings.teacherPrompt, retry: retry,
                timeout: teacherTimeout.seconds, maxTokens: teacherMaxTokens, client: client
            ) { attempt, reason, delay in
                diagnostics.warning("teacher attempt \(attempt) failed: \(reason); retrying in \(delay) s")
            }
        }
        let rows = try PreferenceFile.read(paths: reference, requiring: .init(chosen: true, rejected: false))
        let topics = settings.topics
        let references = ReferenceAnswers(rows: rows) { topic in topic.map { topics.scope(of: $0) == .inScope } ?? true }
        let judged = judgedAnswers.isEmpty ? nil : try JudgedAnswers(
            paths: judgedAnswers, metric: settings.metric, questionField: "question", answerField: "answer")
        return PolicyAnswers(refusal: settings.refusal, topics: topics, references: references,
                             neighbourOverlap: neighbourOverlap, judgedAnswers: judged)
    }

    /// An unreadable input, already reported on stderr.
    private struct UnreadableInput: Error {}

    /// Reads every input through the tools' record loop, reporting each record that could not become
    /// a pair for an error reason. Nothing is written per record (the pairs are shuffled and written
    /// at the end), so a malformed line is counted by the builder rather than passed on. An
    /// unreadable input is fatal: a training set built from part of the traffic would look complete.
    private func read(into builder: PairBuilder, diagnostics: Diagnostics) throws {
        let filter = RecordFilter(tool: "orpo-pairs", options: RecordFilterOptions(inputs: inputs, onError: .mark),
                                  diagnostics: diagnostics)
        filter.markMalformed = { _, reason, _ in builder.addMalformed(reason: reason) }
        let status = filter.run { record, location, _ in
            switch builder.add(record, at: location) {
            case let .malformed(message): diagnostics.error(message, at: location)
            case .noReference: diagnostics.error(ChosenAnswerError.noReference.description, at: location)
            case .unknownTopic: diagnostics.error(ChosenAnswerError.unknownTopic.description, at: location)
            case let .teacherError(message): diagnostics.error(ChosenAnswerError.teacher(message).description, at: location)
            default: break
            }
        }
        if status == ExitStatus.fatal { throw UnreadableInput() }
    }

    private func write(_ pairs: [PreferencePair]) throws {
        let writer: JSONLWriter
        if let output {
            writer = try JSONLWriter(path: output)
            writer.flushesEachRecord = false
        } else {
            writer = JSONLWriter.standardOutput()
        }
        for pair in pairs { try writer.write(pair.record(format: format)) }
        try writer.flush()
    }

    /// One record per question left without a chosen answer: `id`, `question`, `topic`, and
    /// `neighbour` (`prompt`, `answer`, `overlap`) or null.
    private func writeToJudge(_ records: [JudgedRecord], source: ChosenAnswerSource, to path: String) throws {
        let writer = try JSONLWriter(path: path)
        writer.flushesEachRecord = false
        for record in records {
            var object: JSONObject = ["id": .string(record.id), "question": .string(record.question)]
            object["topic"] = record.topic.map(JSONValue.string) ?? .null
            if let neighbour = (source as? PolicyAnswers)?.neighbour(of: record.question) {
                object["neighbour"] = ["prompt": .string(neighbour.prompt), "answer": .string(neighbour.answer),
                                       "overlap": JSONValue((neighbour.overlap * 10_000).rounded() / 10_000)]
            } else {
                object["neighbour"] = .null
            }
            try writer.write(object)
        }
        try writer.flush()
    }

    private func writeSummary(_ summary: PairSummary, to path: String) throws {
        let writer = try JSONLWriter(path: path)
        try writer.write(summary.json)
        try writer.flush()
    }
}

extension PairFormat: ExpressibleByArgument {}
