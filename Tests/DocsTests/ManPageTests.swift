import Foundation
import Records
import Testing
import TestSupport

// Every man page has the sections a reader looks for, names every option its tool's --help prints,
// and its EXAMPLES run: each `.EX` block with /bin/bash -euo pipefail in a fresh directory of
// fixtures, with this build's tools first in PATH.

/// A tool's man page and the help screens whose options it must document.
struct DocumentedTool: CustomStringConvertible, Sendable {
    var page: String
    /// Each an argument list for the tool that prints a help screen.
    var helpCommands: [[String]]
    var description: String { page }

    static let all: [DocumentedTool] = [
        DocumentedTool(page: "gemma-infer", helpCommands: [["run", "--help"], ["serve", "--help"]]),
        DocumentedTool(page: "judge", helpCommands: [["--help"]]),
        DocumentedTool(page: "score-window", helpCommands: [["--help"]]),
        DocumentedTool(page: "drift-alert", helpCommands: [["watch", "--help"], ["reset", "--help"]]),
        DocumentedTool(page: "orpo-pairs", helpCommands: [["--help"]]),
        DocumentedTool(page: "orpo-train", helpCommands: [["--help"]]),
        DocumentedTool(page: "lora-merge", helpCommands: [["--help"]]),
        DocumentedTool(page: "loop-eval", helpCommands: [["gate", "--help"], ["figures", "--help"]]),
    ]

    func load() throws -> ManPage {
        try ManPage(contentsOf: ExampleSandbox.root.appendingPathComponent("man/\(page).1"))
    }
}

@Suite(.serialized)
struct ManPageTests {
    static let requiredSections = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"]

    @Test(arguments: DocumentedTool.all)
    func pageHasTheRequiredSections(_ tool: DocumentedTool) throws {
        let page = try tool.load()
        for section in Self.requiredSections {
            #expect(page.sections.contains(section), "\(tool.page).1 has no \(section) section")
        }
        #expect(!page.examples.isEmpty, "\(tool.page).1 has no .EX example")
    }

    /// A usage error exits 2 in every tool and subcommand, as every page's EXIT STATUS says
    /// (ArgumentParser's own status for it is 64, which ToolMain maps), with the problem on stderr
    /// and nothing on stdout.
    @Test(arguments: DocumentedTool.all)
    func usageErrorsExitWithTwo(_ tool: DocumentedTool) async throws {
        let text = try String(contentsOf: ExampleSandbox.root.appendingPathComponent("man/\(tool.page).1"), encoding: .utf8)
        let exitStatus = text.components(separatedBy: ".SH EXIT STATUS").dropFirst().first?
            .components(separatedBy: "\n.SH ").first ?? ""
        #expect(exitStatus.contains(".TP\n2\n") || exitStatus.contains(".TP\n.B 2\n"), "\(tool.page).1: EXIT STATUS does not list 2")
        let commands = [[]] + tool.helpCommands.map { Array($0.dropLast()) }.filter { !$0.isEmpty }
        for command in commands {
            for wrong in [["--no-such-option"], ["--no-such-option=1", "extra"]] {
                let run = try await runTool(tool.page, command + wrong)
                let context = "\(tool.page) \((command + wrong).joined(separator: " "))"
                #expect(run.status == 2, "\(context): exit \(run.status)\n\(run.stderr)")
                #expect(run.stderr.contains("Error:"), "\(context): \(run.stderr)")
                #expect(run.stdout.isEmpty, "\(context): \(run.stdout)")
            }
        }
    }

    @Test(arguments: DocumentedTool.all)
    func pageNamesEveryOptionOfTheHelp(_ tool: DocumentedTool) throws {
        let page = try tool.load()
        for arguments in tool.helpCommands {
            let help = try runTool(tool.page, arguments)
            #expect(help.status == 0, "\(tool.page) \(arguments.joined(separator: " ")): \(help.stderr)")
            let options = Self.longOptions(inHelp: help.stdout)
            #expect(!options.isEmpty, "no options found in \(tool.page) \(arguments.joined(separator: " "))")
            for option in options where !Self.mentions(page.plainText, option) {
                Issue.record("\(tool.page).1 does not mention \(option) (from \(tool.page) \(arguments.joined(separator: " ")))")
            }
        }
    }

    @Test(arguments: DocumentedTool.all)
    func examplesRun(_ tool: DocumentedTool) async throws {
        let page = try tool.load()
        let hosted = try ExampleSandbox.hostedModel()
        defer { hosted.stop() }
        for example in page.examples {
            if let reason = example.notRunReason {
                #expect(reason.count > 10, "\(example.location): say why the example is not run")
                continue
            }
            if example.needsModel && !RealModel.isAvailable { continue }
            let sandbox = try ExampleSandbox()
            defer { sandbox.remove() }
            let environment = [
                "OPENAI_BASE_URL": hosted.baseURL + "/v1", "OPENAI_API_KEY": "sk-docs-example",
                "HOOK_URL": hosted.url("/hooks/feedbackloop"), "HOOK_SECRET": "docs-example-secret",
                "PORT": String(try ExampleSandbox.freePort()),
            ]
            let script = example.script
            let run = try await offCooperativePool { try sandbox.run(script, environment: environment) }
            check(run, of: example)
        }
    }

    /// The checks an example's directives ask for.
    func check(_ run: ExampleRun, of example: ManPageExample) {
        let context = "\(example.location):\n\(example.script)\nstderr:\n\(run.stderr.suffix(2000))"
        #expect(run.status == example.status, "exit status \(run.status), expected \(example.status): \(context)")
        let text = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        switch example.output {
        case .jsonl:
            #expect(!text.isEmpty, "no records on stdout: \(context)")
            #expect(Self.malformedLines(run.stdout).isEmpty, "not JSONL: \(Self.malformedLines(run.stdout)) \(context)")
        case .any:
            #expect(Self.malformedLines(run.stdout).isEmpty, "not JSONL: \(Self.malformedLines(run.stdout)) \(context)")
        case .text:
            #expect(!text.isEmpty, "nothing on stdout: \(context)")
        case .none:
            #expect(text.isEmpty, "unexpected output \(text.prefix(200)): \(context)")
        }
        for file in example.writes {
            let path = run.directory.appendingPathComponent(file).path
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size > 0, "\(file) was not written: \(context)")
            if file.hasSuffix(".jsonl") {
                let contents = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                #expect(Self.malformedLines(contents).isEmpty, "\(file) is not JSONL: \(context)")
            }
        }
    }

    /// Lines of `text` that are not JSON objects.
    static func malformedLines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { line in
            (try? JSONParser.parse(line).object) == nil
        }
    }

    /// The long options a help screen lists (lines of its OPTIONS block starting with "--x" or "-x, --x").
    static func longOptions(inHelp help: String) -> [String] {
        var options: [String] = []
        for line in help.split(separator: "\n") {
            var rest = line.drop { $0 == " " }
            guard rest.count < line.count, rest.hasPrefix("-") else { continue }
            if rest.count > 4, rest.dropFirst(2).hasPrefix(", ") { rest = rest.dropFirst(4) }
            guard rest.hasPrefix("--") else { continue }
            let option = rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if option.count > 2 && !options.contains(String(option)) { options.append(String(option)) }
        }
        return options
    }

    /// Whether `text` names `option` as a whole word ("--eval" is not found in "--eval-every").
    static func mentions(_ text: String, _ option: String) -> Bool {
        var searchStart = text.startIndex
        while let range = text.range(of: option, range: searchStart..<text.endIndex) {
            let next = range.upperBound < text.endIndex ? text[range.upperBound] : " "
            if !(next.isLetter || next.isNumber || next == "-") { return true }
            searchStart = range.upperBound
        }
        return false
    }
}
