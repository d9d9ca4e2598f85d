import Foundation
import HTTPClient
import Records
import Testing
import TestSupport

// Issue 21, item 3: a real Prometheus (Debian's package) on loopback scrapes `gemma-infer serve` and
// a real node exporter whose textfile collector reads the files score-window and drift-alert write;
// every query of the shipped Grafana dashboard (examples/grafana/feedbackloop.json) must return data
// from it, and `promtool check metrics` must pass on every exposition. The commands of
// examples/grafana/README.md are what writes the files, run as printed. Prometheus not installed is
// a failure, not a skip: the test command (scripts/setup) installs it.

@Suite(.serialized)
struct PrometheusIntegrationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let grafana = root.appendingPathComponent("examples/grafana")

    /// Requests per batch: the reference traffic and the judged traffic each reach score-window's
    /// drift minimum (30 values), so the drift panels have data.
    static let batch = 32

    @Test func everyDashboardQueryReturnsDataFromARealPrometheus() async throws {
        let tools = try Self.installed(["prometheus", "promtool", "prometheus-node-exporter"])
        let scratch = try TemporaryDirectory()
        let textfiles = scratch.file("textfile")
        try FileManager.default.createDirectory(atPath: textfiles, withIntermediateDirectories: true)

        let server = try ServeProcess(model: try TinyServingModel.path())
        defer { server.stop() }
        let exporterLog = scratch.file("exporter.log"), prometheusLog = scratch.file("prometheus.log"), storage = scratch.file("data")
        let exporter = try await offCooperativePool {
            try Daemon(tools["prometheus-node-exporter"]!, name: "node exporter", readyPath: "/metrics", log: exporterLog) {
                ["--web.listen-address=127.0.0.1:\($0)", "--collector.disable-defaults", "--collector.textfile",
                 "--collector.textfile.directory=\(textfiles)"]
            }
        }
        defer { exporter.stop() }
        // The shipped configuration, with this test's ports and a 1s scrape interval.
        let configPath = try Self.prometheusConfig(serverPort: server.port, exporterPort: exporter.port, to: scratch.file("prometheus.yml"))
        let prometheus = try await offCooperativePool {
            try Daemon(tools["prometheus"]!, name: "prometheus", readyPath: "/-/ready", log: prometheusLog) {
                ["--config.file=\(configPath)", "--storage.tsdb.path=\(storage)", "--web.listen-address=127.0.0.1:\($0)"]
            }
        }
        defer { prometheus.stop() }
        let api = "http://127.0.0.1:\(prometheus.port)"

        // Both targets up (each scraped once) before any traffic, so that the counters' increase
        // falls inside Prometheus's view and the rates and quantiles are numbers.
        try await Self.poll("both targets up", seconds: 240) {
            let targets = try Self.getJSON(api + "/api/v1/targets")?.value(atPath: "data.activeTargets")?.array ?? []
            let up = targets.filter { $0["health"]?.string == "up" }
            return up.count == 2 ? nil : "targets: \(targets.map { "\($0["scrapeUrl"]?.string ?? "?") \($0["health"]?.string ?? "?") \($0["lastError"]?.string ?? "")" })"
        }

        // Traffic: a reference batch, then the batch that is judged and windowed.
        let prompts = ["the cat is", "say hi", "a model of the user", "hi the cat", "the user is at"]
        for i in 0..<(2 * Self.batch) {
            let stream = i % 4 == 3
            let body: JSONObject = ["prompt": .string(prompts[i % prompts.count]), "max_tokens": .int(Int64(2 + i % 3)),
                                    "temperature": 0, "stream": .bool(stream)]
            let request = HTTPRequest.postJSON(url: server.baseURL + "/completions", body: Array(JSONSerializer.string(.object(body)).utf8),
                                               timeout: 120)
            let response = try await offCooperativePool { try HTTPClient().perform(request) }
            #expect(response.status == 200, "request \(i): \(response.text)")
        }
        let logged = try String(contentsOfFile: server.logPath, encoding: .utf8).split(separator: "\n").map(String.init)
        try #require(logged.count == 2 * Self.batch, "traffic log has \(logged.count) records")
        let sandbox = scratch.file("readme")
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sandbox + "/examples", withDestinationPath: Self.root.appendingPathComponent("examples").path)
        for (name, lines) in [("baseline", logged.prefix(Self.batch)), ("judged", logged.suffix(Self.batch))] {
            let judged = try await runTool("judge", ["--check", "no_pii"], stdin: lines.joined(separator: "\n") + "\n")
            #expect(judged.status == 0, "judge: \(judged.stderr)")
            try judged.stdout.write(toFile: sandbox + "/\(name).jsonl", atomically: true, encoding: .utf8)
        }

        // examples/grafana/README.md's commands, as printed: they write the two .prom files.
        let readme = try Self.readmeScript()
        let commands = try await offCooperativePool {
            try Self.bash(readme, in: sandbox, environment: [
                "PORT": String(server.port), "TEXTFILE_DIR": textfiles,
                "PATH": productsDirectory(containing: "score-window").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            ])
        }
        try #require(commands.status == 0,
                     "examples/grafana/README.md's commands exited \(commands.status):\n\(readme)\nstdout: \(commands.stdout)\nstderr: \(commands.stderr)")

        // promtool on both outputs (the server's, and the textfile collector's two files).
        let metrics = try await offCooperativePool { try HTTPClient().perform(HTTPRequest(url: "http://127.0.0.1:\(server.port)/metrics")) }
        for (what, text) in [("gemma-infer serve /metrics", metrics.text),
                             ("score-window's feedbackloop.prom", try String(contentsOfFile: textfiles + "/feedbackloop.prom", encoding: .utf8)),
                             ("drift-alert's alerts.prom", try String(contentsOfFile: textfiles + "/alerts.prom", encoding: .utf8))] {
            let check = try await offCooperativePool { try Self.run(tools["promtool"]!, ["check", "metrics"], stdin: text) }
            #expect(check.status == 0, "promtool check metrics on \(what): exit \(check.status)\n\(check.stdout)\(check.stderr)\n\(text)")
        }

        // Every query of the dashboard returns data (a number, not only NaN), polled while
        // Prometheus scrapes the new samples.
        let queries = try Self.dashboardQueries()
        #expect(queries.count >= 20, "\(queries.count) queries in the dashboard")
        for query in queries {
            try await Self.poll("query \(query)", seconds: 120) {
                let answer = try Self.getJSON(api + "/api/v1/query?query=" + Self.formEncoded(query))
                let result = answer?.value(atPath: "data.result")?.array ?? []
                let values = result.compactMap { $0["value"]?.array?.last?.string.flatMap(Double.init) }
                return values.contains(where: { $0.isFinite }) ? nil : "answer: \(answer.map { JSONSerializer.string(.object($0)) } ?? "none")"
            }
        }
        // The textfile collector took both files (it reports a file it rejects with 1).
        let errors = try Self.getJSON(api + "/api/v1/query?query=" + Self.formEncoded("max(node_textfile_scrape_error)"))
        #expect(errors?.value(atPath: "data.result")?[0]?["value"]?[1]?.string == "0", "\(String(describing: errors))")
        let states = try Self.getJSON(api + "/api/v1/query?query=feedbackloop_alert_state")?.value(atPath: "data.result")?.array ?? []
        let rules = Set(states.compactMap { $0["metric"]?["rule"]?.string })
        #expect(rules == ["latency_drift", "slow_answers"], "\(states)")
    }

    // MARK: The dashboard and the README

    /// Every `expr` of the dashboard's panels (rows included), with Grafana's `$__rate_interval`
    /// set as Grafana would for a short range; any other variable fails the test.
    static func dashboardQueries() throws -> [String] {
        let text = try String(contentsOf: grafana.appendingPathComponent("feedbackloop.json"), encoding: .utf8)
        let dashboard = try #require(try JSONParser.parse(text).object, "feedbackloop.json is not a JSON object")
        var queries: [String] = []
        func collect(_ panels: [JSONValue]) {
            for panel in panels {
                for target in panel["targets"]?.array ?? [] {
                    if let expr = target["expr"]?.string { queries.append(expr) }
                }
                collect(panel["panels"]?.array ?? [])
            }
        }
        collect(dashboard["panels"]?.array ?? [])
        let substituted = queries.map { $0.replacingOccurrences(of: "$__rate_interval", with: "5m") }
        for query in substituted where query.contains("$") {
            Issue.record("a dashboard query uses a variable the test does not set: \(query)")
        }
        return substituted
    }

    /// The README's `sh` blocks, in order, as one script.
    static func readmeScript() throws -> String {
        let text = try String(contentsOf: grafana.appendingPathComponent("README.md"), encoding: .utf8)
        let (blocks, unclosed) = shellBlocks(ofMarkdown: text)
        #expect(!unclosed, "examples/grafana/README.md: a ```sh block is not closed")
        #expect(blocks.count >= 3, "examples/grafana/README.md has \(blocks.count) sh blocks")
        return blocks.joined(separator: "\n")
    }

    /// `prometheus.yml` with the test's ports and a 1s scrape interval; the file must still have
    /// the addresses and interval this replaces.
    static func prometheusConfig(serverPort: Int, exporterPort: Int, to path: String) throws -> String {
        var text = try String(contentsOf: grafana.appendingPathComponent("prometheus.yml"), encoding: .utf8)
        for (shipped, local) in [("localhost:8080", "127.0.0.1:\(serverPort)"), ("localhost:9100", "127.0.0.1:\(exporterPort)"),
                                 ("scrape_interval: 15s", "scrape_interval: 1s")] {
            try #require(text.contains(shipped), "examples/grafana/prometheus.yml no longer has '\(shipped)', which the test replaces")
            text = text.replacingOccurrences(of: shipped, with: local)
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: Processes and HTTP

    /// The full paths of `names`, or a failure that says how to install them.
    static func installed(_ names: [String]) throws -> [String: String] {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/sbin:/usr/local/bin"
        var found: [String: String] = [:]
        for name in names {
            let candidates = path.split(separator: ":").map { "\($0)/\(name)" }
            guard let hit = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw TestFailure("\(name) is not installed: this test runs a real Prometheus; scripts/setup (run by scripts/test) "
                    + "installs it, or apt-get install prometheus prometheus-node-exporter")
            }
            found[name] = hit
        }
        return found
    }

    /// A long-running program on a free loopback port, started (up to three ports, in case another
    /// process takes the one found free first) and ready when `readyPath` answers 200.
    final class Daemon: @unchecked Sendable {
        let process: Process
        let port: Int

        init(_ executable: String, name: String, readyPath: String, log: String, arguments: (Int) -> [String]) throws {
            var lastLog = ""
            for _ in 0..<3 {
                let port = try LoopbackHTTPServer.unusedPort()
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments(port)
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                process.standardOutput = output
                process.standardError = output
                process.standardInput = FileHandle.nullDevice
                try process.run()
                try? output.close()
                // A guard against a hang, not a timing: a loaded machine may take a while.
                let deadline = Date().addingTimeInterval(180)
                while process.isRunning && Date() < deadline {
                    let request = HTTPRequest(url: "http://127.0.0.1:\(port)\(readyPath)", timeout: 5, connectTimeout: 2)
                    if let response = try? HTTPClient().perform(request), response.status == 200 {
                        self.process = process
                        self.port = port
                        return
                    }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                lastLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            }
            throw TestFailure("\(name) did not become ready at \(readyPath): \(lastLog.suffix(3000))")
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    /// Calls `check` until it returns nil (done) or `seconds` pass; then fails with what it last said.
    static func poll(_ what: String, seconds: Double, _ check: @escaping @Sendable () throws -> String?) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while true {
            let said = try await offCooperativePool { try check() }
            guard let said else { return }
            last = said
            if Date() >= deadline { break }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        Issue.record("\(what): not within \(Int(seconds))s; \(last.prefix(3000))")
    }

    static func getJSON(_ url: String) throws -> JSONObject? {
        let response = try HTTPClient().perform(HTTPRequest(url: url, timeout: 30))
        return try? JSONParser.parse(response.text).object
    }

    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? text
    }

    static func bash(_ script: String, in directory: String, environment: [String: String]) throws -> ProgramRun {
        try run("/bin/bash", ["-euo", "pipefail", "-c", script], directory: directory, environment: environment)
    }

    static func run(_ executable: String, _ arguments: [String], stdin: String = "", directory: String? = nil,
                    environment: [String: String] = [:]) throws -> ProgramRun {
        try runProgram(executable, arguments, stdin: stdin, directory: directory, environment: environment)
    }
}
