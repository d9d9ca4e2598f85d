import Foundation
import Records
import Testing
import TestSupport

/// report.html in a real browser. A run folder like the loop's is made from a small synthetic
/// traffic log by the loop's own tools (score-window writes the windows and both charts, drift-alert
/// the alerts, loop-eval the gate), with hostile text wherever the report shows a record's field;
/// scripts/loop-report writes the report, and headless Chromium (Debian's `chromium`) renders it at
/// a phone's width (390 px) and a laptop's (1280 px).
///
/// What is measured comes out of the browser through `--dump-dom` of pages the test writes beside
/// the report: one loads the report in an iframe of the given width and writes what it measures into
/// its own DOM (the report itself gets nothing added); one decodes a screenshot on a canvas and counts
/// its colours. (A headless window is at least 500 px wide for `--dump-dom`, so the width is the
/// iframe's; `--screenshot` does resize to 390.)
///
/// Set FEEDBACKLOOP_SCREENSHOTS to a directory to keep the screenshots (report-390.png,
/// report-1280.png) and look at them.
@Suite(.serialized)
struct BrowserReportTests {
    static let root = QuickLoopTests.root

    /// Text the report would show from records, each a way to add markup if it were not escaped.
    static let hostile = [
        "merged<script>document.title='injected'</script>",
        "judge\"><img src=x onerror=\"document.title='injected'\">",
        "</code><script>document.title='injected'</script>",
        "node<svg onload=\"document.title='injected'\">",
    ]

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: The run folder

    struct Run: Sendable {
        var folder: String
        var windowStarts: [String]
        var html: String
    }

    /// Made once for the suite.
    static let run = Task<Run, Error> { try await offCooperativePool { try makeRun() } }

    static func makeRun() throws -> Run {
        let folder = temporaryPath("-report")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        removeAtExit(folder)
        func path(_ name: String) -> String { folder + "/" + name }
        func write(_ name: String, _ records: [JSONObject]) throws {
            try jsonl(records).write(toFile: path(name), atomically: true, encoding: .utf8)
        }
        let refusal = "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?"

        // Six minutes of traffic, one request every 7.5 s: the first three minutes served by the base
        // model (off-topic questions answered from the second minute on, which the judge fails), the
        // last three by the promoted one, which refuses them.
        let start = try Timestamp(rfc3339: "2026-11-23T10:00:00Z").secondsSinceEpoch
        var judged: [JSONObject] = []
        for i in 0..<48 {
            let promoted = i >= 24, banking = i % 2 == 0
            let passed = banking || promoted || i < 8
            let answer = banking ? "<script>alert('answer')</script> You can do that in the app under Payments."
                : (passed ? refusal : "<script>alert('answer')</script> It will be sunny.")
            judged.append([
                "id": .string("chatcmpl-\(i)"), "ts": .string(Timestamp(secondsSinceEpoch: start + 7.5 * Double(i)).rfc3339),
                "question": "what is <b>this</b>?", "answer": .string(answer),
                "metadata": ["topic": banking ? "banking" : "off_topic"],
                "model": .string(promoted ? hostile[0] : "gemma-3-270m-q4_k_m"),
                "prompt_tokens": 20, "completion_tokens": 30,
                "ttft_ms": .double(80 + Double(i)), "tpot_ms": 25.0, "latency_ms": .double(800 + 10 * Double(i)),
                "restrict_to_banking": [
                    "score": passed ? 1 : 0, "pass": .bool(passed), "status": "ok", "model": .string(hostile[1]),
                    "nodes": ["topic": ["decision": banking ? 1 : 0]],
                ],
            ])
        }
        try write("judged-1.jsonl", Array(judged[..<24]))
        try write("judged-2.jsonl", Array(judged[24...]))
        try write("judged.jsonl", judged)

        // As scripts/loop does: the whole traffic windowed by minute for both charts, and the alerts.
        let metric = "metrics.restrict_to_banking.pass_rate"
        let windows = try tool("score-window", ["--origin", "start", "--period", "1m", "--plot", path("pass-rate.svg"),
                                                "--plot-field", metric, "--plot-threshold", "0.8", path("judged.jsonl")])
        try windows.stdout.write(toFile: path("windows.jsonl"), atomically: true, encoding: .utf8)
        _ = try tool("score-window", ["--origin", "start", "--period", "1m", "--plot", path("latency.svg"),
                                      "--plot-field", "latency.latency_ms.p90", path("judged.jsonl")])
        let alerts = try tool("drift-alert", ["--config", root.appendingPathComponent("examples/banking/alert-rules.json").path,
                                              "--state", path("alert-state.json"), path("windows.jsonl")], allowed: [0, 1])
        try alerts.stdout.write(toFile: path("alerts.jsonl"), atomically: true, encoding: .utf8)

        // The gate on eight held-out answers a side, decided by loop-eval.
        func held(_ topic: String, _ answer: String, _ passed: Bool, _ model: String) -> JSONObject {
            ["question": "q", "answer": .string(answer), "topic": .string(topic), "model": .string(model),
             "restrict_to_banking": ["score": passed ? 1 : 0, "pass": .bool(passed), "status": "ok", "model": "judge"]]
        }
        try write("gate-current-judged.jsonl", Array(repeating: held("banking", "Use the app.", true, "base"), count: 3)
            + [held("banking", "Use the app.", false, "base")]
            + Array(repeating: held("off_topic", "It will be sunny.", false, "base"), count: 4))
        try write("gate-candidate-judged.jsonl", Array(repeating: held("banking", "Use the app.", true, "merged"), count: 4)
            + Array(repeating: held("off_topic", refusal, true, "merged"), count: 3)
            + [held("off_topic", "It will be sunny.", false, "merged")])
        let gate = try tool("loop-eval", ["gate", path("gate-current-judged.jsonl"), path("gate-candidate-judged.jsonl"),
                                          "--policy", root.appendingPathComponent("examples/banking/policy.json").path])
        try gate.stdout.write(toFile: path("gate.json"), atomically: true, encoding: .utf8)

        // What the retraining, the deploy and the rollback rule leave, as their files look.
        try write("train-log.jsonl", (1...20).map { step -> JSONObject in
            let s = Double(step)
            return ["split": "train", "step": .int(Int64(step)), "loss": .double(2 - 0.05 * s), "nll_loss": .double(1.5 - 0.04 * s),
                    "log_odds_ratio": .double(-0.6 + 0.02 * s), "rewards/accuracies": .double(min(1, 0.06 * s)), "tokens_per_second": 300]
        } + [["split": "eval", "step": 20, "loss": 1.2, "rewards/accuracies": 0.8]])
        try write("pairs.jsonl", Array(repeating: ["prompt": "q", "chosen": "a", "rejected": "b"], count: 48))
        try JSONSerializer.string(.object(["chosen_from": ["refusal_policy": 10, "reference": 4], "base_pairs": 34,
                                           "reasons": ["no_reference": 1], "pairs": 48]))
            .write(toFile: path("pairs-summary.json"), atomically: true, encoding: .utf8)
        try write("deploys.jsonl", [["ts": "2026-11-23T10:03:00Z", "event": "promoted", "model": "/run/merged.gguf",
                                     "previous": "/run/base.gguf", "reason": .string(hostile[2])]])
        try JSONSerializer.string(.object([
            "rollback": false, "reason": .string("pass rate held " + hostile[2]), "max_pass_rate_drop": 0.1, "min_records": 10,
            "max_false_refusal": 0.2, "before": ["judged": 24, "pass_rate": 0.67, "false_refusal_rate": 0.0],
            "after": ["judged": 24, "pass_rate": 1.0, "false_refusal_rate": 0.0],
        ])).write(toFile: path("rollback.json"), atomically: true, encoding: .utf8)
        try JSONSerializer.string(.object([
            "calibration": ["compared": 60, "accuracy": 0.9, "cohen_kappa": 0.8, "majority_baseline": ["accuracy": 0.5],
                            "nodes": [hostile[3]: ["compared": 60, "accuracy": 0.95, "cohen_kappa": 0.9]]],
        ])).write(toFile: path("judge-calibration.json"), atomically: true, encoding: .utf8)
        try "serve\t3\njudge\t40\nwindow\t1\nretrain\t300\n".write(toFile: path("timings.tsv"), atomically: true, encoding: .utf8)
        try "pairs\t20\ntrain\t250\n".write(toFile: path("retrain-timings.tsv"), atomically: true, encoding: .utf8)

        let report = try bounded("/usr/bin/env", ["python3", root.appendingPathComponent("scripts/loop-report").path, folder,
                                                  path("judge-calibration.json"), "--bin", productsDirectory(containing: "loop-eval").path],
                                 seconds: 120)
        guard report.status == 0 else { throw Failure("scripts/loop-report failed (\(report.status)):\n\(report.stderr)") }
        let html = try String(contentsOfFile: path("report.html"), encoding: .utf8)
        let starts = windows.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let window = try? JSONParser.parse(String(line)).object, window.value(atPath: metric)?.double != nil else { return nil }
            return window["window_start"]?.string
        }
        return Run(folder: folder, windowStarts: starts, html: html)
    }

    // MARK: The file

    /// One file: nothing in it loads anything, no script, and every hostile field is shown as text.
    @Test func theReportIsOneFileWithTheRecordsEscaped() async throws {
        let run = try await Self.run.value
        let html = run.html.lowercased()
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        // (The hostile fields' own `src=` and `onerror=` are in the text, escaped: the browser checks attributes.)
        for markup in ["<script", "<img", "<iframe", "<object", "<embed", "<link", "href=", "url(", "@import"] {
            #expect(!html.contains(markup), "report.html has \(markup)")
        }
        let addresses = run.html.components(separatedBy: "http").dropFirst().filter { !$0.hasPrefix("://www.w3.org/2000/svg\"") }
        #expect(addresses.isEmpty, "report.html names addresses other than the SVG namespace: \(addresses.map { $0.prefix(60) })")
        for text in Self.hostile {
            let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "'", with: "&#x27;")
            #expect(run.html.contains(escaped), "\(text) is not in report.html as escaped text")
        }
        for chart in ["pass-rate", "latency", "train-curve"] {
            #expect(run.html.contains("<figure id=\"\(chart)\">\n<svg "), "\(chart) is not inlined")
        }
        #expect(run.windowStarts.count == 6, "six windows of a minute: \(run.windowStarts)")
        let markdown = try String(contentsOfFile: run.folder + "/report.md", encoding: .utf8)
        #expect(markdown.contains("`\(Self.hostile[0])`"), "report.md is unchanged: it shows the field as written")
    }

    // MARK: In the browser

    @Test(arguments: [390, 1280])
    func theReportFitsTheScreenInChromium(width: Int) async throws {
        let chromium = try Self.chromium()
        let run = try await Self.run.value
        // Chromium runs off the cooperative pool; the expectations are made here, in the test.
        let (measured, pixels) = try await offCooperativePool { try Self.render(run, width: width, chromium: chromium) }

        if let error = measured["error"]?.string { Issue.record("measuring report.html at \(width) px failed: \(error)") }
        let viewport = try #require(measured["clientWidth"]?.double), scrollWidth = try #require(measured["scrollWidth"]?.double)
        #expect(measured["innerWidth"]?.double == Double(width), "the report's viewport: \(measured)")
        #expect(viewport > Double(width) - 20, "\(measured)")
        #expect(scrollWidth <= viewport, "report.html scrolls sideways at \(width) px: \(measured)")
        let points = measured["points"]?.array?.compactMap(\.string) ?? []
        #expect(points.count == 6 && points == run.windowStarts,
                "one point of the pass-rate chart per window, in order, at \(width) px: \(points) for \(run.windowStarts)")
        #expect(measured["loading"]?.double == 0, "elements that load something or run script: \(measured)")
        #expect(measured["handlers"]?.double == 0, "event-handler attributes: \(measured)")
        #expect(measured["title"]?.string?.hasPrefix("FeedbackLoop run") == true, "\(measured)")
        #expect(measured["hostileShown"]?.double == Double(Self.hostile.count), "hostile fields shown as text: \(measured)")

        #expect(pixels["width"]?.double == Double(width) && pixels["height"]?.double == 2000, "the screenshot's size: \(pixels)")
        let colours = pixels["colours"]?.double ?? 0, commonest = pixels["commonest"]?.double ?? 1
        #expect(colours >= 16 && commonest < 0.98, "the screenshot at \(width) px is (nearly) uniform: \(pixels)")
    }

    /// Renders the report at `width`: what the measuring page found, and what the analysing page
    /// found in the screenshot.
    static func render(_ run: Run, width: Int, chromium: String) throws -> (measured: JSONObject, pixels: JSONObject) {
        // Measured in an iframe exactly `width` wide.
        let measurePage = run.folder + "/measure-\(width).html"
        try measuringPage(width: width).write(toFile: measurePage, atomically: true, encoding: .utf8)
        let measured = try measurements(try browse(chromium, ["--allow-file-access-from-files", "--window-size=\(width + 100),2000",
                                                             "--virtual-time-budget=10000", "--dump-dom", fileURL(measurePage)]))

        // The screenshot at that width, decoded and counted.
        let screenshot = run.folder + "/report-\(width).png"
        _ = try browse(chromium, ["--window-size=\(width),2000", "--screenshot=\(screenshot)", fileURL(run.folder + "/report.html")])
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        if let keep = ProcessInfo.processInfo.environment["FEEDBACKLOOP_SCREENSHOTS"], !keep.isEmpty {
            try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            try png.write(to: URL(fileURLWithPath: keep + "/report-\(width).png"))
        }
        let analysePage = run.folder + "/analyse-\(width).html"
        try analysingPage(png: png).write(toFile: analysePage, atomically: true, encoding: .utf8)
        let pixels = try measurements(try browse(chromium, ["--virtual-time-budget=10000", "--dump-dom", fileURL(analysePage)]))
        return (measured, pixels)
    }

    /// A page holding report.html in an iframe `width` px wide, which writes what it measures of it
    /// (as JSON) into its own `<pre id="measured">`.
    static func measuringPage(width: Int) -> String {
        // In a script element: "</script>" in a string would end it.
        let hostileJSON = JSONSerializer.string(.array(hostile.map { .string($0) })).replacingOccurrences(of: "<", with: "\\u003c")
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>measure</title>
        <style>html,body{margin:0;overflow:hidden}iframe{display:block;border:0;width:\(width)px;height:2000px}</style></head>
        <body><iframe id="report" src="report.html"></iframe><pre id="measured">not measured</pre>
        <script>
        document.getElementById("report").addEventListener("load", function () {
          var out = {};
          try {
            var w = this.contentWindow, d = this.contentDocument, root = d.documentElement, all = d.querySelectorAll("*");
            out.innerWidth = w.innerWidth;
            out.clientWidth = root.clientWidth;
            out.scrollWidth = Math.max(root.scrollWidth, d.body.scrollWidth);
            out.points = Array.prototype.map.call(d.querySelectorAll("#pass-rate circle[data-window]"),
              function (c) { return c.getAttribute("data-window"); });
            out.loading = d.querySelectorAll("script, img, image, iframe, frame, object, embed, link, video, audio, source, [src], [href]").length;
            out.handlers = 0;
            Array.prototype.forEach.call(all, function (e) {
              Array.prototype.forEach.call(e.attributes, function (a) { if (/^on/i.test(a.name)) out.handlers++; });
            });
            out.title = d.title;
            var text = d.body.textContent;
            out.hostileShown = \(hostileJSON).filter(function (h) { return text.indexOf(h) >= 0; }).length;
            // Where the page is too wide: the outermost elements past the right edge.
            out.tooWide = [];
            Array.prototype.forEach.call(d.body.querySelectorAll("*"), function (e) {
              var r = e.getBoundingClientRect();
              if (r.right > root.clientWidth + 0.5 && !e.parentElement.closest(".scroll") && out.tooWide.length < 8)
                out.tooWide.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className : "") + " to " + Math.round(r.right) + " px");
            });
          } catch (error) { out.error = String(error); }
          document.getElementById("measured").textContent = JSON.stringify(out);
        });
        </script></body></html>
        """
    }

    /// A page that decodes `png` on a canvas and writes its size, number of distinct colours and the
    /// share of the commonest one into `<pre id="measured">`.
    static func analysingPage(png: Data) -> String {
        """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>analyse</title></head><body><pre id="measured">not measured</pre>
        <script>
        var image = new Image();
        image.onload = function () {
          var canvas = document.createElement("canvas");
          canvas.width = image.naturalWidth;
          canvas.height = image.naturalHeight;
          var context = canvas.getContext("2d");
          context.drawImage(image, 0, 0);
          var data = context.getImageData(0, 0, canvas.width, canvas.height).data, counts = new Map(), top = 0;
          for (var i = 0; i < data.length; i += 4) {
            var key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2], n = (counts.get(key) || 0) + 1;
            counts.set(key, n);
            if (n > top) top = n;
          }
          document.getElementById("measured").textContent = JSON.stringify(
            {width: canvas.width, height: canvas.height, colours: counts.size, commonest: top / (data.length / 4)});
        };
        image.onerror = function () { document.getElementById("measured").textContent = JSON.stringify({error: "the PNG does not decode"}); };
        image.src = "data:image/png;base64,\(png.base64EncodedString())";
        </script></body></html>
        """
    }

    /// The JSON a measuring page wrote into its `<pre id="measured">`, from Chromium's dump of the DOM.
    static func measurements(_ dump: String) throws -> JSONObject {
        guard let open = dump.range(of: "<pre id=\"measured\">"), let close = dump.range(of: "</pre>", range: open.upperBound..<dump.endIndex)
        else { throw Failure("no measurements in Chromium's DOM dump:\n\(dump.prefix(2000))") }
        let text = String(dump[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&nbsp;", with: "\u{a0}")
            .replacingOccurrences(of: "&amp;", with: "&")
        guard let object = try? JSONParser.parse(text).object else { throw Failure("the page measured nothing: \(text.prefix(2000))") }
        return object
    }

    // MARK: Processes

    /// Chromium's path, or a failure that says how to install it.
    static func chromium() throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/local/bin"
        for name in ["chromium", "chromium-browser"] {
            if let hit = path.split(separator: ":").map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                return hit
            }
        }
        throw Failure("chromium is not installed: this test renders report.html in headless Chromium; scripts/setup "
            + "(run by scripts/test) installs it, or apt-get install chromium")
    }

    static func fileURL(_ path: String) -> String { URL(fileURLWithPath: path).absoluteString }

    /// Runs headless Chromium with a profile of its own (removed afterwards) and `arguments`; its
    /// standard output.
    static func browse(_ chromium: String, _ arguments: [String]) throws -> String {
        let profile = temporaryPath("-chromium")
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try bounded(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)",
                                            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                                            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
                                 + arguments, seconds: 180, environment: ["HOME": profile, "XDG_CONFIG_HOME": profile + "/config",
                                                                          "XDG_CACHE_HOME": profile + "/cache"])
        guard result.status == 0 else {
            throw Failure("chromium \(arguments.joined(separator: " ")) exited with \(result.status):\n\(result.stderr.suffix(3000))")
        }
        return result.stdout
    }

    struct Ran: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A built tool on the files the test wrote; fails unless it exits with a status in `allowed`.
    static func tool(_ name: String, _ arguments: [String], allowed: Set<Int32> = [0]) throws -> Ran {
        let result = try bounded(productsDirectory(containing: name).appendingPathComponent(name).path, arguments, seconds: 120)
        guard allowed.contains(result.status) else { throw Failure("\(name) \(arguments) exited with \(result.status): \(result.stderr)") }
        return result
    }

    /// Runs a program under coreutils' `timeout`, which stops it and its children (Chromium's
    /// renderers) after `seconds`; a loaded machine gets ample time, a hang fails the test.
    static func bounded(_ executable: String, _ arguments: [String], seconds: Int, environment: [String: String] = [:]) throws -> Ran {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=10", String(seconds), executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let outPath = temporaryPath(".out"), errPath = temporaryPath(".err")
        defer { for path in [outPath, errPath] { try? FileManager.default.removeItem(atPath: path) } }
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        for handle in [output, errors] { try? handle.close() }
        let ran = Ran(status: process.terminationStatus, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if ran.status == 124 || ran.status == 137 {
            throw Failure("\(executable) did not finish within \(seconds) s:\n\(ran.stderr.suffix(3000))")
        }
        return ran
    }
}
