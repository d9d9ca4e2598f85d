import ArgumentParser
import CommandLineTool
import Foundation
import Monitoring
import Records

/// `score-window`: windows of judged traffic with quality, latency, token and drift statistics.
/// Flags override `--config`; the logic lives in `ScoreWindow` so tests call it directly.
public struct ScoreWindowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "score-window",
        abstract: "Aggregate judged traffic records into time windows, with drift against a reference.",
        discussion: """
        Reads traffic records (with judge results) as JSON Lines and writes one record per closed window \
        and group. Windows follow the records' own "ts"; a window closes when event time passes its end \
        plus the allowed lateness, or at end of input. See score-window(1) for the record layout.

        Examples:
          score-window --period 2m --by model,adapter judged.jsonl
          score-window --origin start --period 1h batch-judged.jsonl
          tail -f judged.jsonl | score-window --period 5m --every 1m --lateness 30s
          score-window --reference-windows 5 --format prometheus --output /var/lib/node_exporter/feedbackloop.prom judged.jsonl
          score-window --plot pass.svg --plot-field metrics.restrict_to_banking.pass_rate --plot-threshold 0.8 judged.jsonl
          score-window --partial --period 2m part-1.jsonl > 1.partial; score-window --partial --period 2m part-2.jsonl > 2.partial
          score-window --merge 1.partial 2.partial
        """,
        version: ToolVersion.current)

    public enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, prometheus
    }

    @OptionGroup public var records: RecordFilterOptions

    @Option(help: ArgumentHelp("JSON settings file (keys as in the window settings; durations in seconds or as the flags take them, 2m).", valueName: "file"))
    public var config: String?

    @Option(help: ArgumentHelp("Window length (90s, 2m, 1h). Default 2m.", valueName: "duration"))
    public var period: DurationArgument?

    @Option(help: ArgumentHelp("Slide for sliding windows; tumbling when absent.", valueName: "duration"))
    public var every: DurationArgument?

    @Option(help: ArgumentHelp("Where the grid of windows is anchored: epoch (the wall clock's marks; default), start (the first record's time) or an RFC 3339 instant.", valueName: "origin"))
    public var origin: String?

    @Option(help: ArgumentHelp("Comma-separated fields to group by.", valueName: "fields"))
    public var by: String?

    @Option(help: ArgumentHelp("Allowed lateness of out-of-order records. Default 0s.", valueName: "duration"))
    public var lateness: DurationArgument?

    @Option(name: .customLong("pass-threshold"), parsing: .unconditional, help: ArgumentHelp("Score at or above which a judged record passes when the judge gave no \"pass\". Default 0.5.", valueName: "x"))
    public var passThreshold: Double?

    @Option(name: .customLong("metric-threshold"), help: ArgumentHelp("Pass threshold for one metric, NAME=X (repeatable).", valueName: "name=x"))
    public var metricThresholds: [String] = []

    @Option(help: ArgumentHelp("Traffic JSONL file used as the drift reference.", valueName: "file"))
    public var reference: String?

    @Option(name: .customLong("reference-windows"), parsing: .unconditional, help: ArgumentHelp("Use each group's first N windows as the drift reference.", valueName: "n"))
    public var referenceWindows: Int?

    @Option(name: .customLong("drift-min-samples"), parsing: .unconditional, help: ArgumentHelp("Fewest values for a drift statistic; fewer say not_enough_data. Default 30.", valueName: "n"))
    public var driftMinSamples: Int?

    @Option(name: .customLong("drift-decision"), help: "Statistic that decides drift_detected: psi, ks, jensen_shannon, hellinger, total_variation, wasserstein. Default psi.")
    public var driftDecision: DriftTest?

    @Option(help: "Output format: jsonl (default) or prometheus.")
    public var format: Format = .jsonl

    @Option(help: ArgumentHelp("With --format prometheus: rewrite this file atomically after each window (textfile collector) instead of writing to stdout.", valueName: "file"))
    public var output: String?

    @Option(help: ArgumentHelp("Write an SVG chart of --plot-field over time to this file.", valueName: "file"))
    public var plot: String?

    @Option(name: .customLong("plot-field"), help: ArgumentHelp("Window field path to chart. Default rps.", valueName: "path"))
    public var plotField: String?
    @Option(name: .customLong("plot-metric"), help: .hidden)
    var oldPlotField: String?

    /// `--plot-field`, or its old spelling `--plot-metric` (a judge metric's name in the other tools).
    public var plotMetric: String { plotField ?? oldPlotField ?? "rps" }

    public func validate() throws { _ = try OptionAlias.value(plotField, "--plot-field", old: oldPlotField, "--plot-metric") }

    @Option(name: .customLong("plot-threshold"), parsing: .unconditional, help: ArgumentHelp("Alert threshold drawn on the chart.", valueName: "x"))
    public var plotThreshold: Double?

    @Flag(help: "Write each window's mergeable state (a partial record, for --merge) instead of finished windows.")
    public var partial = false

    @Flag(help: "Read partial records (from --partial runs over parts of the traffic) and combine them into finished windows (with --partial: into fewer partial records).")
    public var merge = false

    public init() {}

    /// Settings from the config file (if any) with flags applied over them.
    public func settings() throws -> ScoreWindowSettings {
        var settings = ScoreWindowSettings()
        if let config {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
                throw FatalError("cannot read config \(config): \(error.localizedDescription)")
            }
            do { settings = try JSONParser.parse(bytes: [UInt8](data)).decode(ScoreWindowSettings.self) } catch {
                throw FatalError("config \(config): \(error)")
            }
        }
        if let period { settings.period = period.seconds }
        if let every { settings.every = every.seconds }
        if let origin { settings.origin = try WindowOrigin(text: origin) }
        if let by { settings.by = by.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let lateness { settings.lateness = lateness.seconds }
        if let passThreshold { settings.passThreshold = passThreshold }
        for item in metricThresholds {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw FatalError("--metric-threshold expects NAME=NUMBER, got '\(item)'")
            }
            settings.passThresholds[String(parts[0])] = value
        }
        if let reference { settings.reference = reference }
        if let referenceWindows { settings.referenceWindows = referenceWindows }
        if let driftMinSamples { settings.drift.minSamples = driftMinSamples }
        if let driftDecision { settings.drift.decision = driftDecision }
        try settings.validate()
        return settings
    }

    public func run() throws {
        let diagnostics = Diagnostics(tool: "score-window")
        let status: Int32
        do {
            status = try execute(diagnostics: diagnostics)
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
        throw ExitCode(status)
    }

    /// Refuses flags that do not go with --partial or --merge.
    func checkModes() throws {
        if partial {
            if format != .jsonl || plot != nil {
                throw FatalError("--partial writes partial records as JSON Lines; --format and --plot go with --merge")
            }
            if reference != nil || referenceWindows != nil {
                throw FatalError("--partial writes no drift statistics: give --reference or --reference-windows to score-window --merge")
            }
        }
        if merge {
            let windowFlags: [(String, Bool)] = [
                ("--period", period != nil), ("--every", every != nil), ("--origin", origin != nil), ("--by", by != nil),
                ("--lateness", lateness != nil), ("--pass-threshold", passThreshold != nil), ("--metric-threshold", !metricThresholds.isEmpty),
            ]
            for (flag, given) in windowFlags where given {
                throw FatalError("\(flag) is set when writing the partials (score-window --partial), not when merging them")
            }
        }
    }

    func execute(diagnostics: Diagnostics) throws -> Int32 {
        try checkModes()
        let settings = try settings()
        if merge { return try executeMerge(settings: settings, diagnostics: diagnostics) }
        var reference: DriftReference? = nil
        if let path = settings.reference {
            reference = try DriftReference(path: path, groupBy: settings.by) { diagnostics.warning($0, at: $1) }
        } else if let n = settings.referenceWindows {
            reference = DriftReference(firstWindows: n)
        }
        let engine = try ScoreWindow(settings: settings, reference: reference, partial: partial)
        let filter = makeFilter(diagnostics: diagnostics)
        let output = WindowOutput(command: self, writer: filter.writer)
        var location = RecordLocation(source: "", line: 0)
        engine.onLate = { lateness in
            diagnostics.warning("late record dropped: its windows closed \(String(format: "%.3f", lateness))s before it arrived (raise --lateness)", at: location)
        }
        return filter.run { record, at, emit in
            location = at
            try output.publish(try engine.add(record), emit)
        } finish: { emit in
            try output.publish(engine.finish(), emit)
            try output.finish()
        }
    }

    /// `--merge`: reads partial records, writes the merged windows at the end of the input.
    func executeMerge(settings: ScoreWindowSettings, diagnostics: Diagnostics) throws -> Int32 {
        if let path = settings.reference, !FileManager.default.isReadableFile(atPath: path) {
            throw FatalError("reference \(path): cannot be read")
        }
        let merger = WindowMerger(drift: settings.drift) { by in
            if let path = settings.reference {
                return try DriftReference(path: path, groupBy: by) { diagnostics.warning($0, at: $1) }
            }
            return settings.referenceWindows.map { DriftReference(firstWindows: $0) }
        }
        let filter = makeFilter(diagnostics: diagnostics)
        let output = WindowOutput(command: self, writer: filter.writer)
        return filter.run { record, _, _ in
            try merger.add(record)
        } finish: { emit in
            if partial {
                for record in merger.mergedPartials() { try emit(record) }
                return
            }
            try output.publish(try merger.finish(), emit)
            try output.finish()
        }
    }

    func makeFilter(diagnostics: Diagnostics) -> RecordFilter {
        var options = records
        // Prometheus text cannot carry a marked JSON record: stdout keeps the exposition only.
        if format == .prometheus && options.onError == .mark { options.onError = .skip }
        return RecordFilter(tool: "score-window", options: options, diagnostics: diagnostics)
    }
}

/// Where finished (or partial) windows go: JSON Lines, the Prometheus exposition, the chart.
final class WindowOutput {
    let format: ScoreWindowCommand.Format
    let output: String?
    let plot: String?
    let plotMetric: String
    let writer: JSONLWriter
    var chart: SVGChart?
    var latest: [String: JSONObject] = [:]
    var latestOrder: [String] = []

    init(command: ScoreWindowCommand, writer: JSONLWriter) {
        format = command.format
        output = command.output
        plot = command.plot
        plotMetric = command.plotMetric
        self.writer = writer
        chart = command.plot.map { _ in SVGChart(title: command.plotMetric, threshold: command.plotThreshold) }
    }

    func publish(_ windows: [JSONObject], _ emit: (JSONObject) throws -> Void) throws {
        guard !windows.isEmpty else { return }
        switch format {
        case .jsonl:
            for window in windows { try emit(window) }
        case .prometheus:
            for window in windows {
                let key = window["group"]?.description ?? "{}"
                if latest[key] == nil { latestOrder.append(key) }
                latest[key] = window
            }
            // The file is rewritten after each window; standard output gets one exposition at
            // the end of the input (a stream of them would repeat every series).
            if let output {
                try replaceFileAtomically(output, with: PrometheusExposition.render(latestOrder.compactMap { latest[$0] }))
            }
        }
        if let plot, chart != nil {
            for window in windows { chart?.add(window: window, path: plotMetric) }
            if let svg = chart?.render() { try replaceFileAtomically(plot, with: svg) }
        }
    }

    /// At the end of the input: the exposition on standard output, the chart's last rendering.
    func finish() throws {
        if format == .prometheus && output == nil && !latestOrder.isEmpty {
            try writer.write(text: PrometheusExposition.render(latestOrder.compactMap { latest[$0] }))
        }
        if let plot, let svg = chart?.render() { try replaceFileAtomically(plot, with: svg) }
    }
}

extension DriftTest: ExpressibleByArgument {}
