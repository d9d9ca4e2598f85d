import Foundation
import Hashing
import Records
import Testing
import TestSupport
import Monitoring

/// Runs the built score-window and drift-alert executables: flags, stdin/stdout, stderr and status.
@Suite(.serialized) struct CommandLineTests {
    let traffic3 = jsonl([traffic(1), traffic(2), traffic(70)])

    @Test func scoreWindowWritesWindowRecords() throws {
        let result = try runTool("score-window", ["--period", "1m"], stdin: traffic3)
        #expect(result.status == 0)
        #expect(result.records.map { $0["count"]?.int ?? -1 } == [2, 1])
        #expect(result.stderr.isEmpty)
    }

    @Test func malformedLinesAreMarkedReportedAndCounted() throws {
        let input = jsonl([traffic(1)]) + "{oops\n" + jsonl([["id": "no-ts"]])
        let result = try runTool("score-window", ["--period", "1m"], stdin: input)
        #expect(result.status == 1)
        let records = result.records
        #expect(records.count == 3)
        #expect(records[0]["raw"] == "{oops")
        #expect(records[0]["line"] == 2)
        #expect(records[1]["error"]?.string?.contains("missing field 'ts'") == true)
        #expect(records[2]["count"] == 1)
        #expect(result.stderr.contains("score-window: error: invalid JSON at column 2"))
        #expect(result.stderr.contains("(stdin:line 2)"))
        #expect(result.stderr.contains("(stdin:line 3)"))
        let skipped = try runTool("score-window", ["--period", "1m", "--on-error", "skip"], stdin: input)
        #expect(skipped.status == 1)
        #expect(skipped.records.count == 1)
        let failed = try runTool("score-window", ["--period", "1m", "--on-error", "fail"], stdin: input)
        #expect(failed.status == 2)
    }

    @Test func usageErrorsExitWithTwo() throws {
        #expect(try runTool("score-window", ["--period", "banana"]).status == 2)
        #expect(try runTool("score-window", ["--period", "0s"]).status == 2)
        #expect(try runTool("score-window", ["/nonexistent/input.jsonl"]).status == 2)
        #expect(try runTool("drift-alert", []).status == 2)
    }

    @Test func prometheusExposition() throws {
        // Two windows of one group: the exposition holds the latest only, each family and series once
        // (a textfile collector drops a file that repeats them).
        let result = try runTool("score-window", ["--period", "1m", "--by", "model", "--format", "prometheus"], stdin: traffic3)
        #expect(result.status == 0)
        #expect(result.stdout.contains("# TYPE feedbackloop_window_records gauge"))
        #expect(result.stdout.contains("feedbackloop_window_records{model=\"m\"} 1.0"))
        #expect(result.stdout.contains("feedbackloop_judge_pass_rate{model=\"m\",metric=\"banking\"} 1.0"))
        #expect(result.stdout.contains("feedbackloop_latency_seconds{model=\"m\",field=\"latency\",percentile=\"p99\"} 0.1"))
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let help = lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] }
        #expect(!help.isEmpty && Set(help).count == help.count, "\(help)")
        let series = lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").dropLast().joined(separator: " ") }
        #expect(!series.isEmpty && Set(series).count == series.count, "\(result.stdout)")
        // Two groups: each has its series.
        let twoModels = jsonl([traffic(1), traffic(2), traffic(3, model: "n")])
        let both = try runTool("score-window", ["--period", "1m", "--by", "model", "--format", "prometheus"], stdin: twoModels)
        #expect(both.stdout.contains("feedbackloop_window_records{model=\"m\"} 2.0") && both.stdout.contains("feedbackloop_window_records{model=\"n\"} 1.0"),
                "\(both.stdout)")
        let file = temporaryPath(".prom")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let toFile = try runTool("score-window", ["--period", "1m", "--format", "prometheus", "--output", file], stdin: traffic3)
        #expect(toFile.stdout.isEmpty)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("feedbackloop_window_records 1.0"))  // the latest window
    }

    @Test func plotDrawsTheMetricAndTheThreshold() throws {
        let svg = temporaryPath(".svg")
        defer { try? FileManager.default.removeItem(atPath: svg) }
        let result = try runTool("score-window", ["--period", "1m", "--plot", svg, "--plot-field", "metrics.banking.pass_rate",
                                                  "--plot-threshold", "0.8"], stdin: traffic3)
        #expect(result.status == 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.hasPrefix("<svg"))
        #expect(text.contains("<polyline"))
        #expect(text.contains("threshold 0.8"))
        #expect(text.contains("metrics.banking.pass_rate"))
        // One point per window, named by the window's start (report.html counts them).
        let starts = result.records.compactMap { $0["window_start"]?.string }
        #expect(starts.count == 2)
        let points = text.split(separator: "<circle ").dropFirst().map { String($0) }
        #expect(points.count == starts.count, "\(text)")
        for (point, start) in zip(points, starts) {
            #expect(point.hasPrefix("class=\"point\" data-window=\"\(start)\" data-group=\"all\""), "\(point)")
        }
    }

    func windowLines(_ values: [Double]) -> String {
        jsonl(values.enumerated().map { window($0.offset + 1, $0.element) })
    }

    @Test func driftAlertExitsLikeGrep() throws {
        let args = ["--field", "metrics.banking.pass_rate", "--below", "0.8", "--name", "banking"]
        let active = try runTool("drift-alert", args, stdin: windowLines([0.9, 0.7]))
        #expect(active.status == 1)
        #expect(active.records.map { $0["event"]?.string ?? "" } == ["detected"])
        let resolved = try runTool("drift-alert", args, stdin: windowLines([0.7, 0.9]))
        #expect(resolved.status == 0)
        #expect(resolved.records.map { $0["event"]?.string ?? "" } == ["detected", "resolved"])
        let quiet = try runTool("drift-alert", args, stdin: "")
        #expect(quiet.status == 0)
        #expect(quiet.stdout.isEmpty)
    }

    @Test func manualAlertStaysActiveAcrossRunsUntilReset() throws {
        let state = temporaryPath(".state.json")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let args = ["--field", "metrics.banking.pass_rate", "--below", "0.8", "--name", "banking", "--reset", "manual", "--state", state,
                    "--severity", "critical"]
        #expect(try runTool("drift-alert", args, stdin: windowLines([0.7])).status == 1)
        let later = try runTool("drift-alert", args, stdin: windowLines([0.95, 0.99]))
        #expect(later.status == 1)
        #expect(later.stdout.isEmpty)
        let reset = try runTool("drift-alert", ["reset", "banking", "--state", state])
        #expect(reset.status == 0)
        #expect(reset.records.first?["event"] == "resolved")
        #expect(reset.records.first?["reason"] == "manual reset")
        // The reset is given no rule: it reports the severity and metric the alert fired with.
        #expect(reset.records.first?["severity"] == "critical" && reset.records.first?["metric"] == "metrics.banking.pass_rate",
                "\(reset.stdout)")
        #expect(try runTool("drift-alert", args, stdin: windowLines([0.95])).status == 0)
        #expect(try runTool("drift-alert", ["reset", "nosuchrule", "--state", state]).status == 2)
    }

    /// Issue 21, item 3: drift-alert's alert states as Prometheus text, one gauge per rule and
    /// group (0 inactive, 1 suspected, 2 detected), rewritten as windows come and by a reset.
    @Test func driftAlertWritesItsStatesAsPrometheusText() throws {
        let prom = temporaryPath(".prom"), state = temporaryPath(".state.json")
        defer {
            try? FileManager.default.removeItem(atPath: prom)
            try? FileManager.default.removeItem(atPath: state)
        }
        let args = ["--field", "metrics.banking.pass_rate", "--below", "0.8", "--suspect", "0.9", "--name", "banking",
                    "--severity", "critical", "--reset", "manual", "--state", state, "--prometheus-output", prom]
        // No window yet: the rule is inactive, without group labels.
        #expect(try runTool("drift-alert", args, stdin: "").status == 0)
        var text = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(text.contains("# TYPE feedbackloop_alert_state gauge\nfeedbackloop_alert_state{rule=\"banking\",severity=\"critical\"} 0.0\n"), "\(text)")
        // Two groups: one detected, one suspected; a group field named like a label is prefixed.
        let windows = jsonl([window(1, 0.7, group: ["model": "m", "rule": "x"]), window(1, 0.85, group: ["model": "n", "rule": "x"])])
        #expect(try runTool("drift-alert", args, stdin: windows).status == 1)
        text = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(text.contains(#"feedbackloop_alert_state{rule="banking",severity="critical",model="m",group_rule="x"} 2.0"#), "\(text)")
        #expect(text.contains(#"feedbackloop_alert_state{rule="banking",severity="critical",model="n",group_rule="x"} 1.0"#), "\(text)")
        #expect(text.contains(#"feedbackloop_alert_state_since_timestamp_seconds{rule="banking",severity="critical",model="m",group_rule="x"} "#))
        let help = text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }
        #expect(help.count == 2, "\(text)")
        // A manual reset rewrites the file: every group inactive.
        #expect(try runTool("drift-alert", ["reset", "banking", "--state", state, "--prometheus-output", prom]).status == 0)
        text = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(text.contains(#"model="m",group_rule="x"} 0.0"#) && text.contains(#"model="n",group_rule="x"} 0.0"#), "\(text)")
        // A file that cannot be written is one clear error before any window.
        let bad = try runTool("drift-alert", ["--field", "a", "--below", "1", "--prometheus-output", "/nonexistent/dir/alerts.prom"],
                              stdin: windowLines([0.5]))
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("cannot write /nonexistent/dir/alerts.prom"), "\(bad.stderr)")
        #expect(bad.stdout.isEmpty, "\(bad.stdout)")
    }

    /// Issue 20, item 9: an unwritable --state is one clear message (the system's reason, not
    /// Foundation's error dump) before any window is read, and exit 2.
    @Test func anUnwritableStateFileIsOneClearMessage() throws {
        let state = temporaryPath("-missing-dir/state.json")
        let args = ["--metric", "metrics.banking.pass_rate", "--below", "0.8", "--name", "banking", "--state", state]
        let run = try runTool("drift-alert", args, stdin: windowLines([0.7, 0.9]))
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("cannot write \(state): creating \(state).tmp-"), "\(run.stderr)")
        #expect(run.stderr.contains("No such file or directory"), "\(run.stderr)")
        #expect(!run.stderr.contains("Domain="), "\(run.stderr)")
    }

    /// A negative number is a flag's value, not a missing one (a drift statistic or a score
    /// difference can be below zero).
    @Test func negativeThresholdsAreValues() throws {
        let run = try runTool("drift-alert", ["--metric", "metrics.banking.pass_rate", "--below", "-0.5", "--name", "neg"],
                              stdin: windowLines([0.7]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("Missing value"), "\(run.stderr)")
    }

    /// A directory where a file belongs (the state file, the rules) is one line naming it, with
    /// the system's reason and no Foundation error dump.
    @Test func aDirectoryForAFileIsOneClearMessage() throws {
        let directory = temporaryPath("-dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = [
            try runTool("drift-alert", ["--metric", "metrics.banking.pass_rate", "--below", "0.8", "--name", "b", "--state", directory],
                        stdin: windowLines([0.7])),
            try runTool("drift-alert", ["reset", "b", "--state", directory]),
            try runTool("drift-alert", ["--config", directory], stdin: windowLines([0.7])),
        ]
        for run in runs {
            #expect(run.status == 2)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.contains(directory), "\(run.stderr)")
            #expect(run.stderr.contains("directory"), "\(run.stderr)")
            #expect(!run.stderr.contains("Domain=") && !run.stderr.contains("NSCocoaErrorDomain"), "\(run.stderr)")
        }
    }

    @Test func rulesFromAConfigFile() throws {
        let config = temporaryPath(".rules.json")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try #"{"rules": [{"name": "b", "metric": "metrics.banking.pass_rate", "comparison": "<", "threshold": 0.8, "count": 2, "period": 600, "severity": "critical"}]}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let result = try runTool("drift-alert", ["--config", config], stdin: windowLines([0.7, 0.9, 0.7]))
        #expect(result.status == 1)
        #expect(result.records.map { $0["event"]?.string ?? "" } == ["detected"])
        #expect(result.records.first?["severity"] == "critical")
        #expect(result.records.first?["window_end"]?.string == iso(180))
    }

    @Test func webhookFromTheCommandLineIsSignedAndSentOnce() throws {
        let server = try LoopbackHTTPServer(replies: [.status(500), .json("{}")])
        defer { server.stop() }
        let result = try runTool("drift-alert", ["--field", "metrics.banking.pass_rate", "--below", "0.8",
                                                 "--webhook", server.url("/alerts"), "--secret-env", "HOOK_SECRET"],
                                 stdin: windowLines([0.7]), environment: ["HOOK_SECRET": "topsecret"])
        #expect(result.status == 1)
        let requests = server.requests
        #expect(requests.count == 2)
        let body = try #require(requests.last?.body)
        #expect(try JSONParser.parse(bytes: body).object == result.records.first)
        let signature = String((requests.last?.header(WebhookNotifier.signatureHeader) ?? "").dropFirst("sha256=".count))
        #expect(HMACSHA256.isValid(tag: Hex.decode(signature) ?? [], for: body, key: Array("topsecret".utf8)))
        #expect(result.stderr.contains("webhook attempt 1 failed"))
    }

    @Test func deadWebhookIsReportedAndTheEventStillReachesStdout() throws {
        let server = try LoopbackHTTPServer()
        let url = server.url("/alerts")
        server.stop()
        let result = try runTool("drift-alert", ["--field", "metrics.banking.pass_rate", "--below", "0.8",
                                                 "--webhook", url, "--webhook-attempts", "2", "--webhook-timeout", "2s"],
                                 stdin: windowLines([0.7]))
        #expect(result.status == 2)
        #expect(result.records.map { $0["event"]?.string ?? "" } == ["detected"])
        #expect(result.stderr.contains("drift-alert: error: webhook notification of 'detected' for rule"))
    }

    @Test func execRunsTheCommandWithTheEvent() throws {
        let out = temporaryPath(".events")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runTool("drift-alert", ["--field", "metrics.banking.pass_rate", "--below", "0.8",
                                                 "--exec", "cat >> '\(out)'"], stdin: windowLines([0.7, 0.9]))
        #expect(result.status == 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("\"event\":\"detected\"") == true)
    }

    @Test func scoreWindowFeedsDriftAlert() throws {
        // Two good windows, then one where every answer fails the judge.
        var records: [JSONObject] = []
        for i in 0..<10 { records.append(traffic(Double(i))) }
        for i in 0..<10 { records.append(traffic(60 + Double(i))) }
        for i in 0..<10 { records.append(traffic(120 + Double(i), score: 0)) }
        let windows = try runTool("score-window", ["--period", "1m"], stdin: jsonl(records))
        let alerts = try runTool("drift-alert", ["--field", "metrics.banking.pass_rate", "--below", "0.8"], stdin: windows.stdout)
        #expect(alerts.status == 1)
        #expect(alerts.records.first?["window_start"]?.string == iso(120))
    }
}

/// score-window on a pipe that stays open: a window must come out as soon as event time passes its
/// end, before the input ends (as with `tail -f`).
@Suite struct LiveStreamTests {
    @Test func windowsComeOutWhileTheInputIsStillOpen() throws {
        let process = Process()
        process.executableURL = productsDirectory(containing: "score-window").appendingPathComponent("score-window")
        process.arguments = ["--period", "1m"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        try input.fileHandleForWriting.write(contentsOf: Data(jsonl([traffic(1), traffic(2), traffic(61)]).utf8))
        // Read the first line; the input is still open. The poll limit only guards against a hang.
        var line: [UInt8] = []
        var fds = [pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        while !line.contains(0x0A) {
            guard poll(&fds, 1, 300_000) > 0 else { break }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let first = try JSONParser.parse(String(decoding: line.prefix { $0 != 0x0A }, as: UTF8.self))
        #expect(first["count"] == 2)
        #expect(first["window_end"]?.string == iso(60))
    }
}

/// `score-window --partial` on parts of a stream, `--merge` on their output: the windows of plain
/// score-window over the whole stream, also as Prometheus text; and what --merge refuses.
@Suite(.serialized) struct PartialMergeCommandTests {
    @Test func partialsOfTwoPartsMergeToThePlainRun() throws {
        let records = randomStream(seed: 31, count: 400)
        let whole = jsonl(records)
        let plain = try runTool("score-window", ["--period", "1m", "--by", "model", "--lateness", "10s"], stdin: whole)
        #expect(plain.status == 0, "\(plain.stderr)")
        let oneStep = try runTool("score-window", ["--partial", "--period", "1m", "--by", "model", "--lateness", "10s"], stdin: whole)
        #expect(oneStep.status == 0, "\(oneStep.stderr)")
        #expect(oneStep.records.allSatisfy { $0["partial_version"] == 1 })
        let mergedWhole = try runTool("score-window", ["--merge"], stdin: oneStep.stdout)
        #expect(mergedWhole.status == 0, "\(mergedWhole.stderr)")
        #expect(keyed(mergedWhole.records) == keyed(plain.records))
        // Two interleaved parts, their partials concatenated in reverse order.
        let parts = split(records, into: 2, interleaved: true, seed: 31)
        var partials = ""
        for part in parts.reversed() {
            let run = try runTool("score-window", ["--partial", "--period", "1m", "--by", "model"], stdin: jsonl(part))
            #expect(run.status == 0, "\(run.stderr)")
            partials += run.stdout
        }
        let merged = try runTool("score-window", ["--merge"], stdin: partials)
        #expect(merged.status == 0 && merged.stderr.isEmpty, "\(merged.stderr)")
        #expect(keyed(merged.records) == keyed(plain.records))
        let staged = try runTool("score-window", ["--merge", "--partial"], stdin: partials)
        #expect(staged.records.count < partials.split(separator: "\n").count)
        #expect(keyed(try runTool("score-window", ["--merge"], stdin: staged.stdout).records) == keyed(plain.records))
        let prometheus = try runTool("score-window", ["--merge", "--format", "prometheus"], stdin: partials)
        let plainPrometheus = try runTool("score-window", ["--period", "1m", "--by", "model", "--lateness", "10s", "--format", "prometheus"], stdin: whole)
        #expect(Set(prometheus.stdout.split(separator: "\n")) == Set(plainPrometheus.stdout.split(separator: "\n")))
    }

    @Test func partialAndMergeRefuseWhatDoesNotGoWithThem() throws {
        let start = try runTool("score-window", ["--partial", "--origin", "start"], stdin: jsonl([traffic(1)]))
        #expect(start.status == 2 && start.stderr.contains("--partial needs a grid of windows every partition shares"), "\(start.stderr)")
        let drift = try runTool("score-window", ["--partial", "--reference-windows", "2"])
        #expect(drift.status == 2 && drift.stderr.contains("give --reference or --reference-windows to score-window --merge"))
        let period = try runTool("score-window", ["--merge", "--period", "1m"])
        #expect(period.status == 2 && period.stderr.contains("--period is set when writing the partials"))
    }

    @Test func malformedPartialsAreReportedWithTheirLineAndField() throws {
        let partial = try runTool("score-window", ["--partial", "--period", "1m"], stdin: jsonl([traffic(1), traffic(2)]))
        let good = partial.stdout
        var wrongVersion = try #require(partial.records.first)
        wrongVersion["partial_version"] = 7
        var badSum = try #require(partial.records.first)
        badSum["tokens"] = ["prompt_tokens": ["n": 1, "sum": "ten"], "completion_tokens": ["n": 0, "sum": []]]
        let input = good + "{oops\n" + jsonl([wrongVersion, traffic(3), badSum])
        let result = try runTool("score-window", ["--merge"], stdin: input)
        #expect(result.status == 1)
        #expect(result.stderr.contains("(stdin:line 2)"))
        #expect(result.stderr.contains("field 'partial_version' is 7, but this score-window reads version 1 only") && result.stderr.contains("(stdin:line 3)"),
                "\(result.stderr)")
        #expect(result.stderr.contains("no field 'partial_version'") && result.stderr.contains("(stdin:line 4)"))
        #expect(result.stderr.contains("field 'tokens.prompt_tokens.sum' must be an array of numbers") && result.stderr.contains("(stdin:line 5)"))
        let windows = result.records.filter { $0["window_start"] != nil && $0["error"] == nil }
        #expect(windows.count == 1 && windows[0]["count"] == 2)
        #expect(try runTool("score-window", ["--merge", "--on-error", "fail"], stdin: input).status == 2)
    }
}
