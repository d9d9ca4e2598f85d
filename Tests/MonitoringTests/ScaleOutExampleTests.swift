import Foundation
import Records
import Testing
import TestSupport

// Issue 23, items 1 and 3: examples/spark/README.md's commands, run as printed (in order, one bash
// script) on a synthetic log of 20,000 records: the PySpark job in Spark local mode (local[2], run
// with python3 and with spark-submit) and GNU parallel --pipe judge and window the log; this test
// compares their windows with one score-window over the whole log, window by window and group by
// group, and their judged records with one judge run. Then the job answers twelve questions with
// gemma-infer on the default model in two partitions before judging them, against one process. Java, PySpark, GNU parallel or jq missing is a
// failure, not a skip: the test command (scripts/setup) installs them. The issue's 100,000 records
// are measured by hand (the README's "Measured by hand").

@Suite(.serialized)
struct ScaleOutExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let readme = root.appendingPathComponent("examples/spark/README.md")
    /// The DDSketch's relative accuracy (docs/windows.md).
    static let alpha = 0.01
    /// The README's windows: 5 minutes per model, on a grid from 2026-11-23T09:59:00Z.
    static let period = 300.0
    static let origin = 1_795_427_940.0

    @Test(.timeLimit(.minutes(30))) func readmeCommandsGiveTheSingleRunsWindowsAndVerdicts() async throws {
        try Self.requireTools()
        let scratch = try TemporaryDirectory()
        let sandbox = scratch.file("readme")
        try FileManager.default.createDirectory(atPath: sandbox + "/.build", withIntermediateDirectories: true)
        for name in ["scripts", "examples"] {
            try FileManager.default.createSymbolicLink(atPath: sandbox + "/" + name, withDestinationPath: Self.root.appendingPathComponent(name).path)
        }
        try FileManager.default.createSymbolicLink(atPath: sandbox + "/.build/release", withDestinationPath: productsDirectory(containing: "judge").path)
        let sparkScratch = scratch.file("spark-tmp")
        try FileManager.default.createDirectory(atPath: sparkScratch, withIntermediateDirectories: true)

        // The README's commands, as printed, bounded by a timeout (a guard against a hang: Spark on
        // a loaded two-core machine takes a minute or two).
        let script = try Self.readmeScript()
        let started = Date()
        let ran = try await offCooperativePool {
            try Self.run("/usr/bin/timeout", ["--kill-after=30", "1200", "/bin/bash", "-euo", "pipefail", "-c", script], directory: sandbox,
                         environment: ["SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_DIRS": sparkScratch, "TMPDIR": sparkScratch])
        }
        let seconds = Date().timeIntervalSince(started)
        try #require(ran.status == 0, "examples/spark/README.md's commands exited \(ran.status) after \(Int(seconds)) s:\n\(script)\nstdout: \(ran.stdout)\nstderr: \(ran.stderr.suffix(6000))")
        for line in ["Spark's verdicts are the single run's", "parallel's verdicts are the single run's",
                     "the same answers and decisions"] {
            #expect(ran.stdout.contains(line), "stdout: \(ran.stdout)")
        }
        #expect(ran.stdout.components(separatedBy: "the same counts, pass rates and means").count == 3, "stdout: \(ran.stdout)")
        // Spark split the log (four part files: at least four partitions). spark-submit sends the
        // Python driver's standard error to its standard output.
        let partitions = (ran.stderr + "\n" + ran.stdout).components(separatedBy: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: #"from (\d+) partitions"#, options: .regularExpression) else { return nil }
            return Int(line[range].split(separator: " ")[1])
        }
        // (The log's two runs in four partitions or more, the questions' in two.)
        #expect(partitions.count == 3 && partitions.filter { $0 >= 4 }.count == 2 && partitions.contains(2),
                "partitions: \(partitions); stderr: \(ran.stderr.suffix(3000))")
        // The questions answered by gemma-infer in two partitions: all twelve answered, judged
        // (status ok) and windowed.
        let answered = try String(contentsOfFile: sandbox + "/answered.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(answered.count == 12)
        for line in answered {
            let record = try JSONParser.parse(String(line))
            #expect(record["answer"]?.string?.isEmpty == false && record["restrict_to_banking"]?["status"] == "ok", "\(line)")
        }
        #expect(ran.stdout.split(separator: "\n").last == "12", "stdout: \(ran.stdout)")

        let judgedLines = try String(contentsOfFile: sandbox + "/judged.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(judgedLines.count == 20_000)
        let raw = try Self.latencies(judgedLines)
        #expect(raw.values.contains { $0.count > 2048 }, "no window and group has more than 2048 latencies: the sketch is not exercised")
        let single = try Self.windows(sandbox + "/windows.jsonl")
        #expect(single.count == 8, "\(single.count) windows")
        for name in ["spark-windows.jsonl", "submit-windows.jsonl", "parallel-windows.jsonl"] {
            let other = try Self.windows(sandbox + "/" + name)
            #expect(Set(other.keys) == Set(single.keys), "\(name): windows \(other.keys.sorted()) against \(single.keys.sorted())")
            for (key, window) in single {
                guard let theirs = other[key] else { continue }
                Self.compare(window, theirs, path: "", context: Context(file: name, key: key, raw: raw, firstWindow: Self.firstWindows(single)))
            }
        }
        print("ScaleOutExampleTests: the README's commands took \(Int(seconds)) s")
    }

    // MARK: Comparing windows

    struct Context {
        var file: String
        var key: String
        var raw: [String: [Double]]
        var firstWindow: [String: String]

        var group: String { String(key.split(separator: " ", maxSplits: 1)[1]) }
        var current: [Double] { raw[key] ?? [] }
        var reference: [Double] { firstWindow[group].flatMap { raw[$0] } ?? [] }
    }

    /// Every figure of the single run's window against the other's: equal, but latency
    /// percentiles within α·p, and latency drift within the bounds of docs/windows.md.
    static func compare(_ mine: JSONValue, _ theirs: JSONValue, path: String, context: Context) {
        let place = "\(context.file) \(context.key) \(path)"
        switch (mine, theirs) {
        case let (.object(a), .object(b)):
            #expect(Set(a.keys) == Set(b.keys), "\(place): members \(a.keys) against \(b.keys)")
            if path == ".drift.latency_ms" {
                compareLatencyDrift(a, b, context: context)
                return
            }
            for (key, value) in a {
                guard let other = b[key] else { continue }
                compare(value, other, path: path + "." + key, context: context)
            }
        case let (.array(a), .array(b)):
            #expect(a.count == b.count, "\(place): \(a.count) against \(b.count) elements")
            for (x, y) in zip(a, b) { compare(x, y, path: path + "[]", context: context) }
        case let (.number(a), .number(b)):
            let x = a.double, y = b.double
            if path.hasPrefix(".latency."), [".p50", ".p90", ".p99"].contains(where: path.hasSuffix) {
                #expect(abs(x - y) <= alpha * abs(x) * (1 + 1e-12) + 1e-9, "\(place): percentile \(y), exact \(x), bound \(alpha * abs(x))")
            } else {
                #expect(x == y, "\(place): \(y), the single run \(x)")
            }
        default:
            #expect(mine == theirs, "\(place): \(theirs), the single run \(mine)")
        }
    }

    /// Latency drift, measured on sketched values (each moved by at most a factor α) in the current
    /// window and the reference (the group's first window, itself merged): sample sizes and
    /// thresholds equal; the raw Wasserstein distance within α (mean of the current + mean of the
    /// reference), the normed one within that bound carried through the reference's standard
    /// deviation (which moves by at most α times the values' root mean square); the
    /// Kolmogorov–Smirnov statistic within the largest share of the current window and of the
    /// reference lying within a factor α of one point; PSI, Jensen–Shannon, Hellinger and total
    /// variation (values crossing a bin edge; no bound holds for every data set) within 0.02 (they differ by at most 0.002 here). The
    /// verdicts and the K–S p-value follow from these figures and are not compared.
    static func compareLatencyDrift(_ a: JSONObject, _ b: JSONObject, context: Context) {
        let place = "\(context.file) \(context.key) drift.latency_ms"
        for key in ["n", "reference_n"] {
            #expect(a[key] == b[key], "\(place).\(key): \(String(describing: b[key])), the single run \(String(describing: a[key]))")
        }
        guard a["psi"] != nil else {  // the reference window itself, or not enough data
            #expect(a == b, "\(place): \(b), the single run \(a)")
            return
        }
        let current = context.current, reference = context.reference
        #expect(current.count == a["n"]?.int && reference.count == a["reference_n"]?.int,
                "\(place): \(current.count) and \(reference.count) raw latencies, the window says \(String(describing: a["n"])) and \(String(describing: a["reference_n"]))")
        func figure(_ object: JSONObject, _ path: String) -> Double {
            JSONValue.object(object).value(atPath: path)?.double ?? .nan
        }
        for test in ["psi", "ks", "jensen_shannon", "hellinger", "total_variation", "wasserstein"] {
            #expect(figure(a, test + ".threshold") == figure(b, test + ".threshold"), "\(place).\(test).threshold")
        }
        let mean = { (x: [Double]) in x.reduce(0, +) / Double(max(1, x.count)) }
        let rawBound = alpha * (mean(current.map(abs)) + mean(reference.map(abs))) * (1 + 1e-9) + 1e-9
        let raw = figure(a, "wasserstein.raw"), rawMerged = figure(b, "wasserstein.raw")
        #expect(abs(raw - rawMerged) <= rawBound, "\(place): raw Wasserstein \(rawMerged), exact \(raw), bound \(rawBound)")
        let refMean = mean(reference)
        let spread = sqrt(reference.map { ($0 - refMean) * ($0 - refMean) }.reduce(0, +) / Double(reference.count))
        let rms = sqrt(reference.map { $0 * $0 }.reduce(0, +) / Double(reference.count))
        let low = spread - alpha * rms
        if low > 0 {
            let normedBound = rawBound / low + raw * alpha * rms / (spread * low) + 1e-9
            let normed = figure(a, "wasserstein.value"), normedMerged = figure(b, "wasserstein.value")
            #expect(abs(normed - normedMerged) <= normedBound, "\(place): normed Wasserstein \(normedMerged), exact \(normed), bound \(normedBound)")
        }
        let ksBound = largestShareNearOnePoint(current) + largestShareNearOnePoint(reference) + 1e-12
        let ks = figure(a, "ks.statistic"), ksMerged = figure(b, "ks.statistic")
        #expect(abs(ks - ksMerged) <= ksBound, "\(place): K–S statistic \(ksMerged), exact \(ks), bound \(ksBound)")
        for test in ["psi", "jensen_shannon", "hellinger", "total_variation"] {
            let x = figure(a, test + ".value"), y = figure(b, test + ".value")
            #expect(abs(x - y) <= 0.02, "\(place): \(test) \(y), exact \(x), tolerance 0.02")
        }
    }

    /// The largest share of the values lying within a factor α of one point p (|x − p| ≤ α·x, that
    /// is x in [p / (1 + α), p / (1 − α)], an interval of ratio γ = (1 + α) / (1 − α)); positive
    /// values.
    static func largestShareNearOnePoint(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted(), gamma = (1 + alpha) / (1 - alpha)
        var best = 0, end = 0
        for start in sorted.indices {
            end = max(end, start)
            while end + 1 < sorted.count && sorted[end + 1] <= sorted[start] * gamma { end += 1 }
            best = max(best, end - start + 1)
        }
        return Double(best) / Double(sorted.count)
    }

    // MARK: Reading the results

    /// Window records by "start group" (group as JSON).
    static func windows(_ path: String) throws -> [String: JSONValue] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [String: JSONValue] = [:]
        for line in text.split(separator: "\n") {
            let record = try JSONParser.parse(String(line))
            let start = try Timestamp(rfc3339: record["window_start"]?.string ?? "").secondsSinceEpoch
            let key = "\(Int(start)) " + JSONSerializer.string(record["group"] ?? .null)
            #expect(out[key] == nil, "\(path): window \(key) written twice")
            out[key] = record
        }
        return out
    }

    /// Each group's first window with records (the drift reference of --reference-windows 1).
    static func firstWindows(_ windows: [String: JSONValue]) -> [String: String] {
        var first: [String: (Int, String)] = [:]
        for (key, window) in windows where (window["count"]?.int ?? 0) > 0 {
            let parts = key.split(separator: " ", maxSplits: 1)
            let start = Int(parts[0])!, group = String(parts[1])
            if first[group].map({ start < $0.0 }) ?? true { first[group] = (start, key) }
        }
        return first.mapValues { $0.1 }
    }

    /// The latencies of the judged log, by "start group" of the README's windows.
    static func latencies(_ lines: [Substring]) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for line in lines {
            let record = try JSONParser.parse(String(line))
            let t = try Timestamp(rfc3339: record["ts"]?.string ?? "").secondsSinceEpoch
            let start = Int(origin + ((t - origin) / period).rounded(.down) * period)
            let group: JSONValue = .object(JSONObject([("model", record["model"] ?? .null)]))
            guard let latency = record["latency_ms"]?.double else { continue }
            out["\(start) " + JSONSerializer.string(group), default: []].append(latency)
        }
        return out
    }

    // MARK: The README and the tools

    /// The README's `sh` blocks, in order, as one script.
    static func readmeScript() throws -> String {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let (blocks, unclosed) = shellBlocks(ofMarkdown: text)
        #expect(!unclosed, "examples/spark/README.md: a ```sh block is not closed")
        #expect(blocks.count >= 6, "examples/spark/README.md has \(blocks.count) sh blocks")
        return blocks.joined(separator: "\n")
    }

    /// Java, PySpark, GNU parallel and jq, or a failure that says how to install them.
    static func requireTools() throws {
        let hint = "scripts/setup (run by scripts/test) installs it"
        let java = try run("/bin/sh", ["-c", "java -version"])
        guard java.status == 0 else {
            throw ToolMissing("java is not installed (PySpark needs Java 17): \(hint), or apt-get install default-jre-headless")
        }
        let pyspark = try run("/bin/sh", ["-c", "python3 -c 'import pyspark' && command -v spark-submit"])
        guard pyspark.status == 0 else {
            throw ToolMissing("PySpark is not installed (or spark-submit is not on PATH): \(hint), or python3 -m pip install pyspark\n\(pyspark.stderr)")
        }
        let parallel = try run("/bin/sh", ["-c", "parallel --version"])
        guard parallel.status == 0, parallel.stdout.hasPrefix("GNU parallel") else {
            throw ToolMissing("GNU parallel is not installed (moreutils' parallel is another program): \(hint), or apt-get install parallel")
        }
        guard try run("/bin/sh", ["-c", "command -v jq"]).status == 0 else {
            throw ToolMissing("jq is not installed: \(hint), or apt-get install jq")
        }
    }

    struct ToolMissing: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func run(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) throws -> ProgramRun {
        try runProgram(executable, arguments, directory: directory, environment: environment)
    }
}
