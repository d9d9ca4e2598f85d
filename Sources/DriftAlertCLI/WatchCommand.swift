import ArgumentParser
import CommandLineTool
import Foundation
import HTTPClient
import Monitoring
import Records

extension DriftAlertCommand {
    /// Watches window records (the default subcommand).
    public struct Watch: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "watch", abstract: "Evaluate rules over window records (default).")

        @OptionGroup public var records: RecordFilterOptions
        @OptionGroup public var shared: Shared

        @Option(help: ArgumentHelp("Rule name (default: the field path).", valueName: "name"))
        public var name: String?
        @Option(help: ArgumentHelp("The window field the rule watches, a path such as metrics.restrict_to_banking.pass_rate.", valueName: "path"))
        public var field: String?
        @Option(name: .customLong("metric"), help: .hidden)
        var oldField: String?

        /// `--field`, or its old spelling `--metric` (a judge metric's name in the other tools).
        public var metric: String? { field ?? oldField }

        public func validate() throws { _ = try OptionAlias.value(field, "--field", old: oldField, "--metric") }
        @Option(parsing: .unconditional, help: ArgumentHelp("Alert when the value is below X.", valueName: "x"))
        public var below: Double?
        @Option(parsing: .unconditional, help: ArgumentHelp("Alert when the value is above X.", valueName: "x"))
        public var above: Double?
        @Option(parsing: .unconditional, help: ArgumentHelp("Softer threshold that marks 'suspected' first.", valueName: "x"))
        public var suspect: Double?
        @Option(parsing: .unconditional, help: ArgumentHelp("Threshold the value must pass back over to resolve (hysteresis).", valueName: "x"))
        public var clear: Double?
        @Option(parsing: .unconditional, help: ArgumentHelp("Bad windows needed (within --within). Default 1.", valueName: "n"))
        public var count: Int = 1
        @Option(help: ArgumentHelp("Period in which --count bad windows detect; without it they must be consecutive.", valueName: "duration"))
        public var within: DurationArgument?
        @Option(help: ArgumentHelp("Quiet time after an alert fires. Default 0s.", valueName: "duration"))
        public var cooldown: DurationArgument?
        @Option(help: "Reset policy: auto (resolve by itself) or manual (until 'drift-alert reset NAME').")
        public var reset: ResetPolicy = .auto
        @Option(help: ArgumentHelp("Severity written into events. Default warning.", valueName: "text"))
        public var severity: String = "warning"
        @Option(help: "Sequential change detection on the metric: cusum or page_hinkley; --above is then its alarm level.")
        public var detector: String?
        @Option(help: "Detector direction: up, down or both. Default both.")
        public var direction: String = "both"
        @Option(parsing: .unconditional, help: ArgumentHelp("Detector slack (CUSUM k, Page-Hinkley delta). Default 0.", valueName: "x"))
        public var slack: Double = 0
        @Option(parsing: .unconditional, help: ArgumentHelp("CUSUM target mean (default: mean of the warm-up windows).", valueName: "x"))
        public var target: Double?
        @Option(parsing: .unconditional, help: ArgumentHelp("Detector warm-up windows. Default 5.", valueName: "n"))
        public var warmup: Int = 5

        public init() {}

        /// The rule given by flags, if any.
        func ruleFromFlags() throws -> AlertRule? {
            guard let metric else {
                if below != nil || above != nil || detector != nil { throw FatalError("--below/--above/--detector need --field") }
                return nil
            }
            let comparison: Comparison
            let threshold: Double
            switch (below, above) {
            case let (b?, nil): comparison = .below; threshold = b
            case let (nil, a?): comparison = detector == nil ? .above : .aboveOrEqual; threshold = a
            default: throw FatalError("--field needs exactly one of --below or --above")
            }
            var rule = AlertRule(name: name ?? metric, metric: metric, comparison: comparison, threshold: threshold)
            rule.suspectThreshold = suspect
            rule.clearThreshold = clear
            rule.count = count
            rule.period = within?.seconds
            rule.cooldown = cooldown?.seconds ?? 0
            rule.reset = reset
            rule.severity = severity
            if let detector {
                guard let kind = ChangeDetectorSettings.Kind(rawValue: detector.replacingOccurrences(of: "-", with: "_")) else {
                    throw FatalError("--detector must be cusum or page_hinkley, got '\(detector)'")
                }
                guard let dir = ChangeDetectorSettings.Direction(rawValue: direction) else {
                    throw FatalError("--direction must be up, down or both, got '\(direction)'")
                }
                guard below == nil else { throw FatalError("with --detector, give the alarm level with --above") }
                rule.detector = ChangeDetectorSettings(type: kind, direction: dir, slack: slack, target: target, warmup: warmup)
            }
            return rule
        }

        public func run() throws {
            let diagnostics = Diagnostics(tool: "drift-alert")
            let status: Int32
            do { status = try execute(diagnostics: diagnostics) } catch {
                diagnostics.error("\(error)")
                throw ExitCode(ExitStatus.fatal)
            }
            throw ExitCode(status)
        }

        func execute(diagnostics: Diagnostics) throws -> Int32 {
            var rules = try shared.rulesFromConfig()
            if let rule = try ruleFromFlags() { rules.append(rule) }
            guard !rules.isEmpty else { throw FatalError("no rules: give --field with --below/--above, or --config FILE") }
            let engine = try AlertEngine(rules: rules, state: try shared.loadState())
            // Written once before any window is read: an unwritable --state fails here, once, clearly.
            try shared.saveState(engine.state)
            try shared.writePrometheus(engine)
            let notifiers = try shared.notifiers(diagnostics: diagnostics)
            var notificationsFailed = false
            let filter = RecordFilter(tool: "drift-alert", options: records, diagnostics: diagnostics)
            let inputStatus = filter.run { record, _, emit in
                let events = try engine.process(window: record)
                for event in events {
                    try emit(event)
                    if !DriftAlertCommand.notify(event, notifiers, diagnostics) { notificationsFailed = true }
                }
                if !events.isEmpty { try shared.saveState(engine.state) }
                try shared.writePrometheus(engine)
            }
            try shared.saveState(engine.state)
            try shared.writePrometheus(engine)
            if inputStatus != ExitStatus.success || notificationsFailed { return ExitStatus.fatal }
            return engine.anyDetected ? 1 : 0
        }
    }
}
