import ArgumentParser
import CommandLineTool
import Foundation
import HTTPClient
import Monitoring
import Records

extension DriftAlertCommand {
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

        @Option(name: .customLong("webhook-attempts"), parsing: .unconditional, help: ArgumentHelp("Attempts per event, retries with backoff included. Default 4.", valueName: "n"))
        public var webhookAttempts: Int = 4

        @Option(name: .customLong("prometheus-output"), help: ArgumentHelp("Rewrite this file atomically with every rule's alert state as Prometheus text (textfile collector) after each window.", valueName: "file"))
        public var prometheusOutput: String?

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
                throw FatalError("cannot read rules \(config): \(SystemErrorText.reason(error))")
            }
            struct Wrapped: Decodable { var rules: [AlertRule] }
            do {
                let value = try JSONParser.parse(bytes: [UInt8](data))
                if value.array != nil { return try value.decode([AlertRule].self) }
                return try value.decode(Wrapped.self).rules
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

        /// Rewrites `--prometheus-output` (if given) with the engine's alert states.
        func writePrometheus(_ engine: AlertEngine) throws {
            guard let prometheusOutput else { return }
            try replaceFileAtomically(prometheusOutput, with: AlertExposition.render(rules: engine.rules, state: engine.state))
        }
    }
}
