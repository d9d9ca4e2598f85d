import CommandLineTool
import Foundation
import Testing
import TestSupport

/// What every tool shares at its edges: `--version` prints the package's one version string, and
/// the exit statuses a man page's EXIT STATUS lists are the exit-status table's and the ones the
/// tool really uses, each shown by a run (usage errors: ManPageTests.usageErrorsExitWithTwo).
@Suite(.serialized)
struct ExitStatusTests {
    /// One run of a tool and the status it must end with.
    struct Case: Sendable {
        var arguments: [String]
        var stdin: String = ""
        var status: Int32
        /// Runs only where the default model is (or CI promises it).
        var needsModel = false
    }

    static let window = #"{"window_start":"2026-01-01T00:00:00Z","window_end":"2026-01-01T00:01:00Z","group":{},"count":10,"metrics":{"banking":{"pass_rate":0.5}}}"#
    static let goodWindow = window.replacingOccurrences(of: "0.5", with: "0.9")
    static let pair = #"{"prompt_input_ids":[2,10,11,12],"chosen_input_ids":[2,10,11,12,20,21,1],"rejected_input_ids":[2,10,11,12,30,31,32,1]}"#
    static let judged = #"{"question":"hi","answer":"hello","topic":"banking","restrict_to_banking":{"score":1,"status":"ok","pass":true}}"#

    static let cases: [String: [Case]] = [
        "gemma-infer": [
            Case(arguments: ["--max-tokens", "1"], stdin: #"{"question":"hi"}"# + "\n", status: 0, needsModel: true),
            Case(arguments: ["--max-tokens", "1"], stdin: #"{"nothing":"to answer"}"# + "\n", status: 1, needsModel: true),
            Case(arguments: ["--model", "/nonexistent/model.gguf"], stdin: #"{"question":"hi"}"# + "\n", status: 2),
        ],
        "judge": [
            Case(arguments: ["--check", "valid_json"], stdin: #"{"answer":"{}"}"# + "\n", status: 0),
            Case(arguments: ["--check", "valid_json"], stdin: "not json\n", status: 1),
            Case(arguments: ["--check", "valid_json", "/nonexistent/input.jsonl"], status: 2),
        ],
        "score-window": [
            Case(arguments: ["--period", "60"], stdin: #"{"ts":"2026-01-01T00:00:10Z","latency_ms":5}"# + "\n", status: 0),
            Case(arguments: ["--period", "1m"], stdin: "not json\n", status: 1),
            Case(arguments: ["--period", "soon"], status: 2),
        ],
        "drift-alert": [
            Case(arguments: ["--field", "metrics.banking.pass_rate", "--below", "0.8"], stdin: goodWindow + "\n", status: 0),
            Case(arguments: ["--field", "metrics.banking.pass_rate", "--below", "0.8"], stdin: window + "\n", status: 1),
            Case(arguments: ["--field", "metrics.banking.pass_rate"], stdin: window + "\n", status: 2),
        ],
        "orpo-pairs": [
            Case(arguments: [], stdin: judged + "\n", status: 0),
            Case(arguments: [], stdin: "not json\n", status: 1),
            Case(arguments: ["/nonexistent/judged.jsonl"], status: 2),
        ],
        "orpo-train": [
            Case(arguments: ["--model", SharedFixtures.path("tiny-gemma3"), "--tokenized", "--batch-size", "1", "--max-steps", "1",
                             "--threads", "1", "-o", NSTemporaryDirectory() + "exit-status-\(UUID().uuidString)"],
                 stdin: pair + "\n", status: 0),
            Case(arguments: ["--model", SharedFixtures.path("tiny-gemma3"), "--tokenized", "--batch-size", "1", "--max-steps", "1",
                             "--threads", "1", "-o", NSTemporaryDirectory() + "exit-status-\(UUID().uuidString)"],
                 stdin: pair + "\nnot json\n", status: 1),
            Case(arguments: ["--model", "/nonexistent/model.gguf", "-o", NSTemporaryDirectory() + "unused"], stdin: pair + "\n", status: 2),
        ],
        "lora-merge": [
            Case(arguments: ["--version"], status: 0),
            Case(arguments: ["--model", "/nonexistent/model.gguf", "--adapter", "/nonexistent/adapter", "-o", "/nonexistent/out.gguf"], status: 2),
        ],
        "loop-eval": [
            Case(arguments: ["figures"], stdin: judged + "\n", status: 0),
            Case(arguments: ["figures"], stdin: "not json\n", status: 1),
            Case(arguments: ["gate", "/nonexistent/current.jsonl", "/nonexistent/candidate.jsonl"], status: 2),
        ],
    ]

    /// The statuses a page's EXIT STATUS section lists (`.TP` then `N` or `.B N`).
    static func documentedStatuses(_ tool: String) throws -> Set<Int32> {
        let text = try String(contentsOf: ExampleSandbox.root.appendingPathComponent("man/\(tool).1"), encoding: .utf8)
        let section = text.components(separatedBy: ".SH EXIT STATUS").dropFirst().first?
            .components(separatedBy: "\n.SH ").first ?? ""
        var statuses: Set<Int32> = []
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, line) in lines.enumerated() where line == ".TP" && i + 1 < lines.count {
            let next = lines[i + 1].hasPrefix(".B ") ? String(lines[i + 1].dropFirst(3)) : lines[i + 1]
            if let status = Int32(next.trimmingCharacters(in: .whitespaces)) { statuses.insert(status) }
        }
        return statuses
    }

    @Test(arguments: DocumentedTool.all.map(\.page))
    func versionPrintsThePackagesVersion(_ tool: String) async throws {
        let run = try await runTool(tool, ["--version"])
        #expect(run.status == ExitStatus.success, "\(tool) --version: exit \(run.status)\n\(run.stderr)")
        #expect(run.stdout == ToolVersion.current + "\n", "\(tool) --version: \(run.stdout)")
    }

    @Test(arguments: DocumentedTool.all.map(\.page))
    func exitStatusesAreTheDocumentedOnes(_ tool: String) async throws {
        let documented = try Self.documentedStatuses(tool)
        #expect(documented.isSubset(of: Set(ExitStatus.all)), "\(tool).1 lists \(documented.sorted()), the table has \(ExitStatus.all)")
        #expect(documented.contains(ExitStatus.success) && documented.contains(ExitStatus.fatal), "\(tool).1 lists \(documented.sorted())")
        let cases = try #require(Self.cases[tool], "no exit-status cases for \(tool)")
        var shown: Set<Int32> = []
        for c in cases where !c.needsModel || RealModel.isAvailable {
            let run = try await runTool(tool, c.arguments, stdin: c.stdin)
            let context = "\(tool) \(c.arguments.joined(separator: " "))"
            #expect(run.status == c.status, "\(context): exit \(run.status), expected \(c.status)\n\(run.stderr)")
            #expect(documented.contains(c.status), "\(context) exits \(c.status), which \(tool).1 does not list")
            shown.insert(run.status)
        }
        let skipped = cases.contains { $0.needsModel && !RealModel.isAvailable }
        if !skipped {
            #expect(shown == documented, "\(tool): the runs show \(shown.sorted()), \(tool).1 lists \(documented.sorted())")
        }
    }
}
