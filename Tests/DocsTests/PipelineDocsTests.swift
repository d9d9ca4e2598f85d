import Foundation
import Records
import Testing
import TestSupport

// Issue 22, item 3: every ```sh block of README.md and of each Markdown page of examples/pipelines/
// runs as printed. A page's blocks run in order as one bash script (-euo pipefail), as a reader
// types them into one terminal, in a sandbox holding a copy of examples/, scripts/ and man/, with
// this build's tools first in PATH and as .build/release, HOME a fresh folder, on the default
// model. A block exits 0 unless a rule below says otherwise; a block that runs until stopped
// (a live pipeline following a log) is stopped by the test once it has done what it shows, within
// a time limit. Every rule must find its block, so a rule cannot outlive the text it is about.

/// How one block of a page is run: the block is the one whose text holds `line`.
struct BlockRule: Sendable {
    enum Kind: Sendable {
        /// Not run, for this reason.
        case notRun(String)
        /// Exits with this status, which the page says.
        case status(Int32)
        /// Runs until stopped: it is stopped once `file` has `lines` lines, or after `limit` seconds.
        case runsUntilStopped(file: String, lines: Int, limit: Int)
    }

    var line: String
    var kind: Kind
}

/// A Markdown page whose blocks run, and what its run must have left behind.
struct DocumentedPage: CustomStringConvertible, Sendable {
    var path: String
    var rules: [BlockRule]
    var description: String { path }

    /// The rules of every page; a page of examples/pipelines/ without rules has none to follow.
    static let rules: [String: [BlockRule]] = [
        "README.md": [
            // The only block not run.
            BlockRule(line: "scripts/run     # the main job", kind: .notRun(
                "scripts/run is the whole loop on the default model (about 27 minutes) and scripts/test the "
                    + "test suite that runs this test (15 minutes and more); both first run scripts/setup, which installs "
                    + "packages with apt-get and pip and builds. Tests/LoopTests runs the loop's quick form (scripts/run --quick)")),
            BlockRule(line: "tail -n +1 -F traffic.jsonl \\", kind: .runsUntilStopped(file: "judged.jsonl", lines: 4, limit: 300)),
            // The page says why: the banking failures have no reference answer.
            BlockRule(line: "orpo-pairs judged.jsonl --reference examples/banking/train.jsonl \\",
                      kind: .status(1)),
        ],
        "examples/pipelines/README.md": [
            BlockRule(line: "tail -n +1 -F traffic.jsonl \\", kind: .runsUntilStopped(file: "judged.jsonl", lines: 6, limit: 300)),
            // The page says it: the alert is still active at the end.
            BlockRule(line: "score-window --period 1h judged.jsonl \\", kind: .status(1)),
        ],
    ]

    static var all: [DocumentedPage] {
        let pipelines = (try? FileManager.default.contentsOfDirectory(atPath: ExampleSandbox.root.appendingPathComponent("examples/pipelines").path)) ?? []
        let pages = ["README.md"] + pipelines.filter { $0.hasSuffix(".md") }.sorted().map { "examples/pipelines/" + $0 }
        return pages.map { DocumentedPage(path: $0, rules: rules[$0] ?? []) }
    }
}

@Suite(.serialized)
struct PipelineDocsTests {
    /// Each page's blocks as one script; then what they must have left in the sandbox.
    @Test(.timeLimit(.minutes(20)), arguments: DocumentedPage.all)
    func blocksRunAsPrinted(_ page: DocumentedPage) async throws {
        let text = try String(contentsOf: ExampleSandbox.root.appendingPathComponent(page.path), encoding: .utf8)
        let (blocks, unclosed) = shellBlocks(ofMarkdown: text)
        #expect(!unclosed, "\(page.path): a ```sh block is not closed")
        let script = try Self.script(page, blocks: blocks, lines: Self.blockLines(text))
        guard RealModel.isAvailable else { return }  // the pages' commands run the default model
        let sandbox = try PageSandbox()
        let hosted = try ExampleSandbox.hostedModel()
        defer { hosted.stop() }
        let started = Date()
        let environment = [
            "HOME": sandbox.file("home"), "PORT": String(try ExampleSandbox.freePort()),
            "OPENAI_BASE_URL": hosted.baseURL + "/v1", "OPENAI_API_KEY": "sk-docs-example",
        ]
        let directory = sandbox.directory
        let run = try await offCooperativePool { try PageSandbox.run(script, in: directory, environment: environment) }
        let seconds = Int(Date().timeIntervalSince(started))
        let context = "\(page.path), \(seconds) s:\nstdout:\n\(run.stdout.suffix(3000))\nstderr:\n\(run.stderr.suffix(6000))"
        #expect(run.status == 0, "exit status \(run.status): \(context)")
        guard run.status == 0 else { return }
        switch page.path {
        case "README.md": try Self.checkReadme(sandbox, run, context)
        case "examples/pipelines/README.md":
            try Self.checkLiveLoop(sandbox, run, context)
            // retrain-from-folder.sh: one step at its learning rate, and a merged model.
            let steps = try sandbox.records("from-folder/train-log.jsonl").filter { $0["split"]?.string == "train" }
            #expect(steps.count == 1 && (steps.first?["learning_rate"]?.double ?? 0) > 0, "retrain-from-folder.sh: \(steps) \(context)")
            #expect(sandbox.size("from-folder/merged.gguf") > 100_000_000, "retrain-from-folder.sh merged no model: \(context)")
            // judge-with-hosted-model.sh asked the stand-in for OpenAI once per record, and windowed.
            #expect(hosted.requests.count == 6, "\(hosted.requests.count) requests to the hosted model: \(context)")
            let windows = try sandbox.records("windows.jsonl")
            #expect(!windows.isEmpty && windows.allSatisfy { $0["metrics"]?["restrict_to_banking"] != nil }, "windows: \(windows) \(context)")
        default: break
        }
        print("PipelineDocsTests: \(page.path) ran in \(seconds) s")
    }

    /// The README's install block put the tools on PATH and the man pages on MANPATH; the watcher
    /// judged the traffic, which kept each request's topic; orpo-pairs wrote the refusal's pair;
    /// gemma-infer answered; lora-merge wrote a model and a combined adapter.
    static func checkReadme(_ sandbox: PageSandbox, _ run: ProgramRun, _ context: String) throws {
        for tool in ["gemma-infer", "judge", "score-window", "drift-alert", "orpo-pairs", "orpo-train", "lora-merge", "loop-eval"] {
            #expect(FileManager.default.isExecutableFile(atPath: sandbox.file("home/.local/bin/" + tool)), "\(tool) not installed: \(context)")
            #expect(FileManager.default.fileExists(atPath: sandbox.file("home/.local/share/man/man1/\(tool).1")), "\(tool).1 not installed: \(context)")
        }
        #expect(run.stdout.contains(sandbox.file("home/.local/share/man/man1/judge.1")), "man -w judge did not find the installed page: \(context)")
        let judged = try sandbox.records("judged.jsonl")
        #expect(judged.count == 4, "\(judged.count) judged records: \(context)")
        for record in judged {
            #expect(JSONValue.object(record).value(atPath: "metadata.topic")?.string != nil, "no topic in \(record): \(context)")
            #expect(record["restrict_to_banking"]?["pass"] != nil, "not judged: \(record)")
            // The node judge: orpo-pairs reads the topic node, with no topic field given.
            #expect(JSONValue.object(record).value(atPath: "restrict_to_banking.nodes.topic.decision") != nil,
                    "no topic node in \(record)")
        }
        let pairs = try sandbox.records("pairs.jsonl")
        #expect(pairs.count == 1, "\(pairs.count) pairs: \(context)")
        #expect(pairs.first?["chosen"]?.string?.hasPrefix("As a banking agent") == true, "\(pairs): \(context)")
        #expect(run.stdout.split(separator: "\n").contains { (try? JSONParser.parse(String($0)))?["answer"]?.string != nil },
                "gemma-infer wrote no answer: \(context)")
        #expect(sandbox.size("judge-merged.gguf") > 100_000_000, "lora-merge wrote no model: \(context)")
        // Two rank-8 adapters combined: one rank-16 adapter, about twice the size of one.
        #expect(sandbox.size("judge-blend.tar.gz") > 10_000_000, "lora-merge --combine wrote no adapter: \(context)")
    }

    /// The live loop's page: the alert ran retrain.sh, which made pairs, trained, merged and had the
    /// server reload onto the merged model.
    static func checkLiveLoop(_ sandbox: PageSandbox, _ run: ProgramRun, _ context: String) throws {
        #expect(try sandbox.records("judged.jsonl").count == 6, "judged records: \(context)")
        let deploys = try sandbox.records("deploys.jsonl")
        #expect(deploys.contains { $0["event"]?.string == "promoted" }, "no promotion in deploys.jsonl: \(context)")
        let model = deploys.last?["model"]?.string ?? ""
        #expect(model.hasSuffix("/merged.gguf") && sandbox.size(model) > 100_000_000, "deployed \(model): \(context)")
        // The run's folder, relative to the sandbox.
        let folder = String(URL(fileURLWithPath: model).deletingLastPathComponent().path.dropFirst(sandbox.directory.count + 1))
        let pairs = try sandbox.records(folder + "/pairs.jsonl")
        #expect(pairs.count == 4, "\(pairs.count) pairs: \(context)")
        // One step (RETRAIN_MAX_STEPS=1), taken at the recipe's learning rate: the warm-up is skipped.
        let steps = try sandbox.records(folder + "/train-log.jsonl").filter { $0["split"]?.string == "train" }
        #expect(steps.count == 1 && (steps.first?["learning_rate"]?.double ?? 0) > 0, "training: \(steps) \(context)")
        let health = run.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }.last(where: { $0["reloads"] != nil })
        #expect(health?["model"]?.string == "merged" && (health?["reloads"]?.int ?? 0) >= 1, "/health: \(String(describing: health)) \(context)")
    }

    /// scripts/setup --prefix copies only a complete build, and --copy-only asks for a prefix:
    /// both stop with status 2 before anything is installed or built.
    @Test func setupPrefixRefusesWhatItCannotCopy() throws {
        let sandbox = try PageSandbox()
        try FileManager.default.removeItem(atPath: sandbox.file(".build/release"))
        try FileManager.default.createDirectory(atPath: sandbox.file(".build/release"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: productsDirectory(containing: "judge").path + "/judge", toPath: sandbox.file(".build/release/judge"))
        let partial = try runProgram(sandbox.file("scripts/setup"), ["--prefix", sandbox.file("home/.local"), "--copy-only"])
        #expect(partial.status == 2 && partial.stderr.contains(".build/release/gemma-infer is not built"), "\(partial.status): \(partial.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.file("home/.local/bin/judge")), "copied from a partial build")
        let noPrefix = try runProgram(sandbox.file("scripts/setup"), ["--copy-only"])
        #expect(noPrefix.status == 2 && noPrefix.stderr.contains("--copy-only needs --prefix"), "\(noPrefix.status): \(noPrefix.stderr)")
    }

    // MARK: The script

    /// The line of the page where each ```sh block starts.
    static func blockLines(_ text: String) -> [Int] {
        text.components(separatedBy: "\n").enumerated().filter { $0.element == "```sh" }.map { $0.offset + 1 }
    }

    /// The page's blocks as one bash script, each run as its rule says.
    static func script(_ page: DocumentedPage, blocks: [String], lines: [Int]) throws -> String {
        #expect(!blocks.isEmpty, "\(page.path) has no ```sh block")
        for rule in page.rules {
            let matching = blocks.filter { $0.contains(rule.line) }
            #expect(matching.count == 1, "\(page.path): \(matching.count) blocks hold the line the rule names: \(rule.line)")
        }
        // On the way out, whatever a block left running (a server whose stop a failed block never
        // reached) is stopped.
        var script = """
            docs_block=none docs_job=
            trap 'docs_status=$?
              [ $docs_status -eq 0 ] || echo "pipeline-docs: the block at $docs_block stopped the script, status $docs_status" >&2
              [ -z "$docs_job" ] || kill -TERM -- -"$docs_job" 2> /dev/null
              docs_left=$(jobs -p); [ -z "$docs_left" ] || kill -TERM $docs_left 2> /dev/null
              exit $docs_status' EXIT

            """
        for (index, block) in blocks.enumerated() {
            let location = "\(page.path):\(index < lines.count ? lines[index] : 0)"
            let rule = page.rules.first { block.contains($0.line) }
            script += "\n# \(location)\ndocs_block=\(location)\n"
            switch rule?.kind {
            case .notRun(let reason)?:
                #expect(reason.count > 20, "\(location): say why the block is not run")
                script += "# not run: \(reason)\n"
            case nil, .status(0)?:
                script += block + "\n"
            case .status(let status)?:
                script += """
                    set +e
                    (
                    set -e
                    \(block)
                    )
                    docs_status=$?
                    set -e
                    [ "$docs_status" -eq \(status) ] || { echo "pipeline-docs: \(location) exited $docs_status, the page says \(status)" >&2; exit 90; }

                    """
            case .runsUntilStopped(let file, let count, let limit)?:
                // Its own process group (job control), so that stopping it stops every process of it.
                script += """
                    set -m
                    (
                    set +m
                    \(block)
                    ) &
                    docs_job=$!
                    set +m
                    for _ in $(seq 1 \(limit)); do
                      [ -f \(file) ] && [ "$(wc -l < \(file))" -ge \(count) ] && break
                      kill -0 "$docs_job" 2> /dev/null || break
                      sleep 1
                    done
                    if ! kill -0 "$docs_job" 2> /dev/null; then
                      docs_status=0; wait "$docs_job" || docs_status=$?
                      echo "pipeline-docs: \(location) ended by itself, status $docs_status; it should run until stopped" >&2; exit 91
                    fi
                    kill -TERM -- -"$docs_job" 2> /dev/null || true
                    wait "$docs_job" || true
                    docs_job=
                    [ -f \(file) ] && [ "$(wc -l < \(file))" -ge \(count) ] \\
                      || { echo "pipeline-docs: \(location): \(file) has fewer than \(count) lines after \(limit) s" >&2; exit 92; }

                    """
            }
        }
        return script
    }
}

/// A sandbox for a page: copies of examples/, scripts/ and man/, this build's tools as
/// .build/release, and an empty home; removed when the value goes away.
struct PageSandbox {
    let scratch: TemporaryDirectory
    var directory: String { scratch.path }

    init() throws {
        scratch = try TemporaryDirectory()
        let files = FileManager.default
        try files.createDirectory(atPath: scratch.file(".build"), withIntermediateDirectories: true)
        try files.createDirectory(atPath: scratch.file("home"), withIntermediateDirectories: true)
        for name in ["examples", "scripts", "man"] {
            try files.copyItem(atPath: ExampleSandbox.root.appendingPathComponent(name).path, toPath: scratch.file(name))
        }
        try files.createSymbolicLink(atPath: scratch.file(".build/release"), withDestinationPath: productsDirectory(containing: "judge").path)
    }

    /// `name` inside the sandbox; an absolute path as it is.
    func file(_ name: String) -> String { name.hasPrefix("/") ? name : scratch.file(name) }

    func size(_ name: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: file(name))[.size]) as? Int) ?? 0
    }

    /// The records of a JSONL file, a path relative to the sandbox.
    func records(_ name: String) throws -> [JSONObject] { try scratch.records(name) }

    /// Runs `script` with bash -euo pipefail in `directory`, this build's tools first in PATH;
    /// GNU timeout is a guard against a hang only. Foundation's Process passes on the signals the
    /// spawning thread blocks (SIGTERM among them), and a tail or tee started with SIGTERM blocked
    /// outlives `kill`: `env --default-signal` starts the script as a shell starts a command, with
    /// no signal blocked or ignored.
    static func run(_ script: String, in directory: String, environment: [String: String]) throws -> ProgramRun {
        var env = environment
        env["PATH"] = productsDirectory(containing: "judge").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        env["FEEDBACKLOOP_MODEL"] = RealModel.path
        return try runProgram("/usr/bin/env", ["--default-signal", "/usr/bin/timeout", "--kill-after=30", "1800",
                                               "/bin/bash", "-euo", "pipefail", "-c", script],
                              directory: directory, environment: env)
    }
}
