import ArgumentParser
import CommandLineTool
import Foundation
import HTTPClient
import Monitoring
import Records

extension DriftAlertCommand {
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
                try shared.writePrometheus(engine)
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
