import CommandLineTool
import Foundation
import Judging
import Records
import Telemetry

/// One run of the `judge` filter: reads records, judges up to `jobs` of them at once, writes them in
/// input order with the verdict added, reports failures on stderr, and works out the exit status.
///
/// The loop is the tools' one record loop (`RecordFilter` with `jobs` records in flight), so
/// `--on-error`, malformed lines (which keep their place between records still being judged) and a
/// closed pipe behave as in every filter. A record whose verdict is "error" or "parse_error" is a
/// failed record: under mark it is written with its verdict, under skip dropped, under fail fatal.
///
/// Exit status: 0 when every record was judged (or deliberately left out by `--sample` or the
/// budget), 1 when some records ended in "error" or "parse_error" or a line was malformed, 2 on a
/// fatal error. With `calibrate`, the records are not written: stdout carries one report record
/// instead.
public final class JudgeRun {
    public let judge: Judge
    public let options: RecordFilterOptions
    public let writer: JSONLWriter
    public let diagnostics: Diagnostics
    public var jobs = 1
    /// Compare decisions with this field's human labels and print a calibration report.
    public var calibrateLabelField: String?
    /// Exports a span per judged record (child of the served request's span when the record names it).
    public var telemetry: Telemetry?
    /// Draw a progress line on stderr (the command sets it when stderr is a terminal).
    public var showProgress = false
    /// Feedback and rejected-request records written through unjudged.
    public private(set) var passedThrough = 0

    /// Records that are not answers to judge pass through untouched: a user's feedback (unless
    /// `--calibrate` reads its labels, `user_pass`, from it: then it is judged, as it carries the
    /// question and answer it rates) and a request the server refused.
    static func passesThrough(_ record: JSONObject, labelField: String?) -> Bool {
        switch record["type"]?.string {
        case "rejected": return true
        case "feedback":
            guard let labelField else { return true }
            return record.value(atPath: labelField) == nil
        default: return false
        }
    }

    public private(set) var counts: [Verdict.Status: Int] = [:]
    public private(set) var calibration = Calibration()
    /// A decomposed judge's nodes against the records' `node_labels.<node>` (when they have them),
    /// by node name: each node's own accuracy and kappa beside the verdict's.
    public private(set) var nodeCalibrations: [String: Calibration] = [:]
    /// Input lines that were not records (not judged, so in no status count).
    public private(set) var malformedLines = 0

    public init(judge: Judge, options: RecordFilterOptions, writer: JSONLWriter, diagnostics: Diagnostics) {
        self.judge = judge
        self.options = options
        self.writer = writer
        self.diagnostics = diagnostics
    }

    public func run() -> Int32 {
        let filter = RecordFilter(tool: "judge", options: options, writer: writer, diagnostics: diagnostics)
        if calibrateLabelField != nil {
            filter.markMalformed = { [unowned self] _, _, _ in self.calibration.skip("malformed") }
        }
        let judge = self.judge, telemetry = self.telemetry, idField = judge.options.idField
        let labelField = calibrateLabelField
        let progress = showProgress ? JudgeProgress(inputs: options.inputs) : nil
        var finished = false
        let status = filter.run(jobs: jobs, work: { record, _ -> (record: JSONObject, verdict: Verdict?) in
            if Self.passesThrough(record, labelField: labelField) { return (record, nil) }
            let start = Date()
            let judged = judge.annotate(record)
            if let telemetry, judged.verdict.status != .notJudged {
                let (span, parent) = JudgeSpan.make(record: record, verdict: judged.verdict, metric: judge.config.name,
                                                    idField: idField, start: start, end: Date())
                telemetry.record(span, parent: parent)
            }
            return (judged.record, judged.verdict)
        }, deliver: { judged, location, emit in
            progress?.advance()
            guard let verdict = judged.verdict else {
                passedThrough += 1
                if calibrateLabelField == nil { try emit(judged.record) }
                return
            }
            let record = judged.record
            counts[verdict.status, default: 0] += 1
            if verdict.status.isFailure {
                try filter.recordFailed("\(judge.config.name): \(verdict.status.rawValue): \(verdict.reason ?? "")", at: location) {
                    try emitOrCount(record, verdict, emit)
                }
            } else {
                try emitOrCount(record, verdict, emit)
            }
        }, finish: { emit in
            if let labelField = calibrateLabelField {
                try emit(calibrationReport(labelField: labelField))
            }
            finished = true
        })
        malformedLines = filter.malformedLines
        progress?.finish()
        if finished { summarize() }
        return status
    }

    private var extraReport: JSONObject {
        var extra: JSONObject = ["model": .string(judge.backend?.modelName ?? "check"),
                                 "template_sha": .string(judge.templateSHA), "version": .string(judge.config.version)]
        let pair = judge.pairwiseConsistency
        if pair.judged > 0 {
            extra["pairwise_consistency"] = .double(Double(pair.consistent) / Double(pair.judged))
        }
        return extra
    }

    /// Writes a judged record, or adds it to the calibration.
    private func emitOrCount(_ record: JSONObject, _ verdict: Verdict, _ emit: (JSONObject) throws -> Void) throws {
        guard let labelField = calibrateLabelField else {
            try emit(record)
            return
        }
        countNodes(record, verdict)
        guard let labelValue = record.value(atPath: labelField), let label = Calibration.className(labelValue) else {
            calibration.skip("no \(labelField)")
            return
        }
        guard verdict.status == .ok else {
            calibration.skip(verdict.status.rawValue)
            return
        }
        let predicted = verdict.pairwise?.winner ?? verdict.decision.map { Calibration.className(Verdict.number($0.value)) ?? $0.label }
        guard let predicted else {
            calibration.skip("no decision")
            return
        }
        calibration.add(label: label, predicted: predicted)
    }

    /// Adds each evaluated node's decision against the record's label of that node. A node the
    /// rule did not need is not evaluated (unless --all-nodes), so it has nothing to compare.
    private func countNodes(_ record: JSONObject, _ verdict: Verdict) {
        guard let outcomes = verdict.nodes, let labels = record[JudgeTrainingPairs.nodeLabelsField]?.object else { return }
        for outcome in outcomes {
            guard let raw = labels[outcome.name], !raw.isNull else { continue }
            let label: String?
            if case let .bool(yes) = raw { label = yes ? "1" : "0" } else { label = Calibration.className(raw) }
            guard let label else { continue }
            nodeCalibrations[outcome.name, default: Calibration()].add(label: label, predicted: String(outcome.decision))
        }
    }

    /// The calibration report, with a `nodes` member for a decomposed judge's labelled nodes.
    private func calibrationReport(labelField: String) -> JSONObject {
        var report = calibration.report(metric: judge.config.name, labelField: labelField, extra: extraReport)
        guard !nodeCalibrations.isEmpty, var body = report["calibration"]?.object else { return report }
        var nodes = JSONObject()
        for node in judge.config.nodes.map(\.name) {
            guard let c = nodeCalibrations[node],
                  let nodeBody = c.report(metric: node, labelField: "\(JudgeTrainingPairs.nodeLabelsField).\(node)")["calibration"]?.object
            else { continue }
            var kept = JSONObject()
            for key in ["label_field", "compared", "accuracy", "cohen_kappa", "confusion", "majority_baseline"] {
                kept[key] = nodeBody[key]
            }
            nodes[node] = .object(kept)
        }
        body["nodes"] = .object(nodes)
        report["calibration"] = .object(body)
        return report
    }

    private func summarize() {
        var parts = Verdict.Status.allCases.compactMap { s in counts[s].map { "\(s.rawValue) \($0)" } }
        if malformedLines > 0 { parts.append("malformed line\(malformedLines == 1 ? "" : "s") \(malformedLines)") }
        if passedThrough > 0 { parts.append("passed through (feedback, rejected requests) \(passedThrough)") }
        guard !parts.isEmpty else { return }
        var line = "\(judge.config.name): " + parts.joined(separator: ", ")
        let pair = judge.pairwiseConsistency
        if pair.judged > 0 {
            line += String(format: "; pairwise orders agreed on %d of %d (consistency %.3f)",
                           pair.consistent, pair.judged, Double(pair.consistent) / Double(pair.judged))
        }
        if let budget = judge.budget, budget.maxTokens != nil || budget.maxCost != nil {
            line += "; spent \(budget.tokensSpent) tokens, cost \(budget.costSpent)"
        }
        diagnostics.note(line)
        if let reason = judge.budget?.exhaustedReason, (counts[.budgetExhausted] ?? 0) > 0 {
            diagnostics.warning("\(reason); \(counts[.budgetExhausted] ?? 0) records passed through unjudged")
        }
    }
}
