import Foundation
import Records

/// One run of the `judge` filter: reads records, judges up to `jobs` of them at once, writes them in
/// input order with the verdict added, reports failures on stderr, and works out the exit status.
///
/// It follows `RecordFilter`'s conventions (`--on-error` for malformed lines, a closed pipe ends
/// quietly) with its own read loop, because a malformed line must take its place in the output
/// between records still being judged rather than jump ahead of them.
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

    public private(set) var counts: [Verdict.Status: Int] = [:]
    public private(set) var malformedLines = 0
    public private(set) var calibration = Calibration()

    public init(judge: Judge, options: RecordFilterOptions, writer: JSONLWriter, diagnostics: Diagnostics) {
        self.judge = judge
        self.options = options
        self.writer = writer
        self.diagnostics = diagnostics
    }

    /// A line's outcome, in input order.
    enum Item {
        case judged(JSONObject, Verdict, RecordLocation)
        case malformed(raw: String, reason: String, RecordLocation)
    }

    private struct Stop: Error {}

    public func run() -> Int32 {
        let queue = OrderedWorkQueue<Item>(width: jobs)
        let judge = self.judge
        var sawFatal = false
        do {
            for item in JSONLReader(paths: options.inputs) {
                switch item {
                case let .unreadable(source, reason):
                    diagnostics.error("\(source): \(reason)")
                    sawFatal = true
                    if options.onError == .fail { throw Stop() }
                case let .malformed(raw, reason, location):
                    try queue.submit({ .malformed(raw: raw, reason: reason, location) }, deliver: handle)
                case let .record(record, location):
                    try queue.submit({
                        let (out, verdict) = judge.annotate(record)
                        return .judged(out, verdict, location)
                    }, deliver: handle)
                }
            }
            try queue.finish(deliver: handle)
            if let labelField = calibrateLabelField {
                try writer.write(calibration.report(metric: judge.config.name, labelField: labelField, extra: extraReport))
            }
            try writer.flush()
        } catch is Stop {
            try? queue.finish { _ in }
            try? writer.flush()
            return ExitStatus.fatal
        } catch JSONLWriter.Failure.brokenPipe {
            try? queue.finish { _ in }
            return ExitStatus.success
        } catch {
            diagnostics.error("\(error)")
            try? queue.finish { _ in }
            return ExitStatus.fatal
        }
        summarize()
        if sawFatal { return ExitStatus.fatal }
        let failed = (counts[.error] ?? 0) + (counts[.parseError] ?? 0) + malformedLines
        return failed > 0 ? ExitStatus.recordsFailed : ExitStatus.success
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

    private func handle(_ item: Item) throws {
        switch item {
        case let .malformed(raw, reason, location):
            malformedLines += 1
            diagnostics.error(reason, at: location)
            switch options.onError {
            case .mark:
                if calibrateLabelField == nil {
                    try writer.write(["error": .string(reason), "line": JSONValue(location.line),
                                      "source": .string(location.source), "raw": .string(raw)])
                } else {
                    calibration.skip("malformed")
                }
            case .skip: break
            case .fail: throw Stop()
            }
        case let .judged(record, verdict, location):
            counts[verdict.status, default: 0] += 1
            if verdict.status.isFailure {
                diagnostics.error("\(judge.config.name): \(verdict.status.rawValue): \(verdict.reason ?? "")", at: location)
                if options.onError == .fail { throw Stop() }
                if options.onError == .skip { return }
            }
            try emitOrCount(record, verdict)
        }
    }

    /// Writes a judged record, or adds it to the calibration.
    private func emitOrCount(_ record: JSONObject, _ verdict: Verdict) throws {
        guard let labelField = calibrateLabelField else {
            try writer.write(record)
            return
        }
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

    private func summarize() {
        let parts = Verdict.Status.allCases.compactMap { s in counts[s].map { "\(s.rawValue) \($0)" } }
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
