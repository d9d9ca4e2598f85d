/// Runs a filter's per-record work over its inputs under an `--on-error` policy and works out the exit
/// status, so that a tool's `main` is a few lines and every tool treats bad input the same way.
///
/// - A line that is not a JSON object is reported on stderr and, under `mark`, emitted as
///   `{"error": "...", "line": N, "source": "...", "raw": "..."}`.
/// - A record whose closure throws (anything but `FatalError` or an output failure) is reported on
///   stderr and, under `mark`, emitted with an `"error"` field added; under `skip` it is dropped.
/// - Under `fail`, the first bad line or record ends the run with status 2.
/// - An input that cannot be opened is reported and the others are still read; the status is then 2.
/// - A closed output pipe ends the run quietly with status 0.
///
/// Status: 0 when all went well, 1 when some records failed (under mark or skip), 2 on a fatal error.
public final class RecordFilter {
    public let options: RecordFilterOptions
    public let writer: JSONLWriter
    public let diagnostics: Diagnostics
    /// Records and lines that failed so far.
    public private(set) var failedRecords = 0
    /// Lines that were not JSON objects (counted in `failedRecords` too).
    public private(set) var malformedLines = 0

    public init(tool: String, options: RecordFilterOptions, writer: JSONLWriter? = nil, diagnostics: Diagnostics? = nil) {
        self.options = options
        self.writer = writer ?? JSONLWriter.standardOutput()
        self.diagnostics = diagnostics ?? Diagnostics(tool: tool)
    }

    /// Emits records to the writer.
    public func emit(_ record: JSONObject) throws {
        try writer.write(record)
    }

    private enum Stop: Error { case fatal, quiet }

    /// How a malformed line is passed on under `mark`; by default as the error record above. A tool
    /// whose output is not one record per input (judge --calibrate) counts it instead.
    public var markMalformed: ((_ raw: String, _ reason: String, RecordLocation) throws -> Void)?

    /// Calls `process` for each record (it emits with the given closure), then `finish` at the end of
    /// input, and returns the exit status.
    public func run(
        process: (JSONObject, RecordLocation, _ emit: (JSONObject) throws -> Void) throws -> Void,
        finish: (_ emit: (JSONObject) throws -> Void) throws -> Void = { _ in }
    ) -> Int32 {
        run(jobs: 1, work: { record, _ in record }, deliver: process, finish: finish)
    }

    /// The record loop with up to `jobs` records in flight: `work` runs on worker threads (one per
    /// record in flight; with one job, on the caller's thread), and `deliver` gets each result on the
    /// caller's thread in input order, as soon as every earlier line is delivered. A malformed line
    /// keeps its place among the records still in flight. `deliver` emits, or throws a record error
    /// (the record is then marked, skipped or fatal by the policy), or reports a failure of its own
    /// with `recordFailed`.
    public func run<Output>(
        jobs: Int,
        work: @escaping @Sendable (JSONObject, RecordLocation) -> Output,
        deliver: (Output, RecordLocation, _ emit: (JSONObject) throws -> Void) throws -> Void,
        finish: (_ emit: (JSONObject) throws -> Void) throws -> Void = { _ in }
    ) -> Int32 {
        let queue = OrderedWorkQueue<Line<Output>>(width: jobs)
        var sawFatal = false
        let emit: (JSONObject) throws -> Void = { [writer] in try writer.write($0) }
        func handle(_ line: Line<Output>) throws {
            switch line {
            case let .malformed(raw, reason, location):
                malformedLines += 1
                try recordFailed(reason, at: location) {
                    if let markMalformed {
                        try markMalformed(raw, reason, location)
                    } else {
                        try emit(["error": .string(reason), "line": JSONValue(location.line),
                                  "source": .string(location.source), "raw": .string(raw)])
                    }
                }
            case let .record(record, output, location):
                do {
                    try deliver(output, location, emit)
                } catch let error where Self.isRecordError(error) {
                    try recordFailed("\(error)", at: location) {
                        var marked = record
                        marked["error"] = .string("\(error)")
                        try emit(marked)
                    }
                }
            }
        }
        do {
            for item in JSONLReader(paths: options.inputs) {
                switch item {
                case let .unreadable(source, reason):
                    diagnostics.error("\(source): \(reason)")
                    sawFatal = true
                    if options.onError == .fail { throw Stop.fatal }
                case let .malformed(raw, reason, location):
                    try queue.submit({ .malformed(raw, reason, location) }, deliver: handle)
                case let .record(record, location):
                    try queue.submit({ .record(record, work(record, location), location) }, deliver: handle)
                }
            }
            try queue.finish(deliver: handle)
            try finish(emit)
            try writer.flush()
        } catch Stop.fatal {
            try? queue.finish { _ in }
            try? writer.flush()
            return ExitStatus.fatal
        } catch Stop.quiet, JSONLWriter.Failure.brokenPipe {
            try? queue.finish { _ in }
            return ExitStatus.success
        } catch {
            diagnostics.error("\(error)")
            try? queue.finish { _ in }
            try? writer.flush()
            return ExitStatus.fatal
        }
        if sawFatal { return ExitStatus.fatal }
        return failedRecords > 0 ? ExitStatus.recordsFailed : ExitStatus.success
    }

    private static func isRecordError(_ error: Error) -> Bool {
        !(error is FatalError || error is JSONLWriter.Failure || error is Stop)
    }

    /// Counts and reports a record that failed, then applies the policy: under `mark` calls `mark`
    /// (which passes the record on), under `skip` drops it, under `fail` ends the run with status 2.
    public func recordFailed(_ message: String, at location: RecordLocation, mark: () throws -> Void) throws {
        failedRecords += 1
        diagnostics.error(message, at: location)
        switch options.onError {
        case .mark: try mark()
        case .skip: break
        case .fail: throw Stop.fatal
        }
    }
}

/// An input line in the record loop: a record with its work's result, or a line that is not a record.
private enum Line<Output> {
    case record(JSONObject, Output, RecordLocation)
    case malformed(String, String, RecordLocation)
}
