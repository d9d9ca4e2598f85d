import ArgumentParser
import Foundation
import HTTPClient
import Records

/// `drift-alert`: alert rules over score-window's window records, with a state file, webhooks and
/// commands. Exit status as grep: 0 no alert active at the end, 1 an alert active, 2 an error.
public struct DriftAlertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drift-alert",
        abstract: "Raise, hold and clear alerts on window records from score-window.",
        discussion: """
        Exit status: 0 when no alert is active at the end, 1 when an alert is active, 2 on an error \
        (bad input, a failed notification, a bad rule).

        Examples:
          score-window --period 2m judged.jsonl | drift-alert --metric metrics.restrict_to_banking.pass_rate --below 0.8 --suspect 0.9 --clear 0.85
          drift-alert --config rules.json --state alerts.json --webhook https://hooks.example/alert --secret-env HOOK_SECRET windows.jsonl
          drift-alert reset banking --state alerts.json
        """,
        subcommands: [Watch.self, Reset.self],
        defaultSubcommand: Watch.self)

    public init() {}

    /// Flags shared by watching and resetting: where state lives and who is told.
    public struct Shared: ParsableArguments {
        @Option(help: ArgumentHelp("JSON rules file: {\"rules\": [...]} or a list of rules.", valueName: "file"))
        public var config: String?

        @Option(help: ArgumentHelp("State file kept across runs (alerts, counters, detectors).", valueName: "file"))
        public var state: String?

        @Option(help: ArgumentHelp("POST each event as JSON to this URL.", valueName: "url"))
        public var webhook: String?

        @Option(help: ArgumentHelp("Secret for the HMAC-SHA256 signature header (prefer --secret-env).", valueName: "text"))
        public var secret: String?

        @Option(name: .customLong("secret-env"), help: ArgumentHelp("Environment variable holding the webhook secret.", valueName: "name"))
        public var secretEnv: String?

        @Option(name: .customLong("webhook-timeout"), help: ArgumentHelp("Timeout of one webhook attempt. Default 10s.", valueName: "duration"))
        public var webhookTimeout: DurationArgument = DurationArgument(seconds: 10)

        @Option(name: .customLong("webhook-attempts"), help: ArgumentHelp("Attempts per event, retries with backoff included. Default 4.", valueName: "n"))
        public var webhookAttempts: Int = 4

        @Option(name: .customLong("exec"), help: ArgumentHelp("Run this shell command for each event, the event JSON on its stdin.", valueName: "command"))
        public var exec: String?

        public init() {}

        func notifiers(diagnostics: Diagnostics) throws -> [EventNotifier] {
            var out: [EventNotifier] = []
            if let webhook {
                var secretText = secret
                if let secretEnv {
                    guard let value = ProcessInfo.processInfo.environment[secretEnv], !value.isEmpty else {
                        throw FatalError("--secret-env \(secretEnv): the variable is not set")
                    }
                    secretText = value
                }
                guard webhookAttempts >= 1 else { throw FatalError("--webhook-attempts must be at least 1") }
                out.append(WebhookNotifier(
                    url: webhook, secret: secretText, timeout: webhookTimeout.seconds,
                    retry: RetryPolicy(maxAttempts: webhookAttempts)) { attempt, reason, delay in
                        diagnostics.warning("webhook attempt \(attempt) failed: \(reason); retrying in \(String(format: "%.1f", delay))s")
                    })
            }
            if let exec { out.append(CommandNotifier(command: exec)) }
            return out
        }

        func rulesFromConfig() throws -> [AlertRule] {
            guard let config else { return [] }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
                throw FatalError("cannot read rules \(config): \(error.localizedDescription)")
            }
            struct Wrapped: Decodable { var rules: [AlertRule] }
            do {
                if let list = try? JSONDecoder().decode([AlertRule].self, from: data) { return list }
                return try JSONDecoder().decode(Wrapped.self, from: data).rules
            } catch {
                throw FatalError("rules \(config): \(error)")
            }
        }

        func loadState() throws -> AlertStateFile {
            guard let state else { return AlertStateFile() }
            return try AlertStateFile.load(path: state)
        }

        func saveState(_ file: AlertStateFile) throws {
            guard let state else { return }
            try file.save(path: state)
        }
    }

    /// Sends one event to every notifier; failures are reported and counted, never thrown.
    static func notify(_ event: JSONObject, _ notifiers: [EventNotifier], _ diagnostics: Diagnostics) -> Bool {
        var ok = true
        for notifier in notifiers {
            do { try notifier.notify(event) } catch {
                ok = false
                let what = notifier is WebhookNotifier ? "webhook" : "command"
                diagnostics.error("\(what) notification of '\(event["event"]?.string ?? "")' for rule '\(event["rule"]?.string ?? "")' failed: \(error)")
            }
        }
        return ok
    }

    /// Watches window records (the default subcommand).
    public struct Watch: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "watch", abstract: "Evaluate rules over window records (default).")

        @OptionGroup public var records: RecordFilterOptions
        @OptionGroup public var shared: Shared

        @Option(help: ArgumentHelp("Rule name (default: the metric path).", valueName: "name"))
        public var name: String?
        @Option(help: ArgumentHelp("Window field path, e.g. metrics.restrict_to_banking.pass_rate.", valueName: "path"))
        public var metric: String?
        @Option(help: ArgumentHelp("Alert when the value is below X.", valueName: "x"))
        public var below: Double?
        @Option(help: ArgumentHelp("Alert when the value is above X.", valueName: "x"))
        public var above: Double?
        @Option(help: ArgumentHelp("Softer threshold that marks 'suspected' first.", valueName: "x"))
        public var suspect: Double?
        @Option(help: ArgumentHelp("Threshold the value must pass back over to resolve (hysteresis).", valueName: "x"))
        public var clear: Double?
        @Option(help: ArgumentHelp("Bad windows needed (within --within). Default 1.", valueName: "n"))
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
        @Option(help: ArgumentHelp("Detector slack (CUSUM k, Page-Hinkley delta). Default 0.", valueName: "x"))
        public var slack: Double = 0
        @Option(help: ArgumentHelp("CUSUM target mean (default: mean of the warm-up windows).", valueName: "x"))
        public var target: Double?
        @Option(help: ArgumentHelp("Detector warm-up windows. Default 5.", valueName: "n"))
        public var warmup: Int = 5

        public init() {}

        /// The rule given by flags, if any.
        func ruleFromFlags() throws -> AlertRule? {
            guard let metric else {
                if below != nil || above != nil || detector != nil { throw FatalError("--below/--above/--detector need --metric") }
                return nil
            }
            let comparison: Comparison
            let threshold: Double
            switch (below, above) {
            case let (b?, nil): comparison = .below; threshold = b
            case let (nil, a?): comparison = detector == nil ? .above : .aboveOrEqual; threshold = a
            default: throw FatalError("--metric needs exactly one of --below or --above")
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
            guard !rules.isEmpty else { throw FatalError("no rules: give --metric with --below/--above, or --config FILE") }
            let engine = try AlertEngine(rules: rules, state: try shared.loadState())
            // Written once before any window is read: an unwritable --state fails here, once, clearly.
            try shared.saveState(engine.state)
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
            }
            try shared.saveState(engine.state)
            if inputStatus != ExitStatus.success || notificationsFailed { return ExitStatus.fatal }
            return engine.anyDetected ? 1 : 0
        }
    }

    /// Ends a rule's alerts by hand (`drift-alert reset NAME`).
    public struct Reset: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "reset", abstract: "End the alerts of rule NAME (needed for reset policy manual).")

        @Argument(help: "The rule's name.")
        public var name: String
        @OptionGroup public var shared: Shared

        public init() {}

        public func run() throws {
            let diagnostics = Diagnostics(tool: "drift-alert")
            do {
                guard shared.state != nil else { throw FatalError("reset needs --state FILE, where the alert is kept") }
                let engine = try AlertEngine(rules: try shared.rulesFromConfig(), state: try shared.loadState())
                let events = try engine.reset(rule: name, at: Date().timeIntervalSince1970)
                let writer = JSONLWriter.standardOutput()
                let notifiers = try shared.notifiers(diagnostics: diagnostics)
                var ok = true
                for event in events {
                    try? writer.write(event)
                    ok = DriftAlertCommand.notify(event, notifiers, diagnostics) && ok
                }
                try shared.saveState(engine.state)
                if events.isEmpty { diagnostics.note("rule '\(name)' had no active alert") }
                if !ok { throw ExitCode(ExitStatus.fatal) }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                diagnostics.error("\(error)")
                throw ExitCode(ExitStatus.fatal)
            }
            throw ExitCode(engineActive() ? 1 : 0)
        }

        private func engineActive() -> Bool {
            guard let state = shared.state, let file = try? AlertStateFile.load(path: state) else { return false }
            return file.rules.values.contains { $0.values.contains { $0.status == .detected } }
        }
    }
}
