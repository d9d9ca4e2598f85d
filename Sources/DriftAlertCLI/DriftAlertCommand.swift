import ArgumentParser
import CommandLineTool
import Foundation
import HTTPClient
import Monitoring
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
          score-window --period 2m judged.jsonl | drift-alert --field metrics.restrict_to_banking.pass_rate --below 0.8 --suspect 0.9 --clear 0.85
          drift-alert --config rules.json --state alerts.json --webhook https://hooks.example/alert --secret-env HOOK_SECRET windows.jsonl
          drift-alert reset banking --state alerts.json
        """,
        version: ToolVersion.current,
        subcommands: [Watch.self, Reset.self],
        defaultSubcommand: Watch.self)

    public init() {}

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
}

extension ResetPolicy: ExpressibleByArgument {}
