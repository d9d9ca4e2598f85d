import CommandLineTool
import Foundation
import JudgeCLI
import Records
@testable import Judging

/// Fixture files copied from examples/ (the judge configs and the head of judge-eval.jsonl).
enum Fixture {
    static func path(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
            throw RecordError("missing fixture \(name)")
        }
        return url.path
    }

    static func judge(_ file: String) throws -> JudgeConfig {
        try JudgeConfig.load(path: try path("judges/\(file)"))
    }
}

/// A scratch directory removed at the end of the test.
final class ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "judging-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, lines: [String]) throws -> String {
        let file = path + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// An OpenAI chat completion response carrying `content`, optionally with log-probabilities.
func chatCompletion(_ content: String, logprobs: [(token: String, logprob: Double, top: [(String, Double)])]? = nil,
                    promptTokens: Int = 100, completionTokens: Int = 10) -> String {
    var choice: JSONObject = ["index": 0, "message": .object(["role": "assistant", "content": .string(content)]),
                              "finish_reason": "stop"]
    if let logprobs {
        choice["logprobs"] = .object(["content": .array(logprobs.map { entry in
            .object(["token": .string(entry.token), "logprob": .double(entry.logprob),
                     "top_logprobs": .array(entry.top.map { .object(["token": .string($0.0), "logprob": .double($0.1)]) })])
        })])
    }
    let body: JSONObject = ["id": "chatcmpl-1", "object": "chat.completion", "choices": .array([.object(choice)]),
                            "usage": .object(["prompt_tokens": JSONValue(promptTokens), "completion_tokens": JSONValue(completionTokens)])]
    return JSONSerializer.string(.object(body))
}

/// The result of one `JudgeRun` over a file: output records, stderr lines and the exit status.
struct RunResult {
    var records: [JSONObject]
    var messages: [String]
    var status: Int32
}

/// Runs `judge` over `lines` as the filter would, with output to a file.
func runJudge(_ judge: Judge, lines: [String], jobs: Int = 1, calibrate: String? = nil,
              onError: ErrorPolicy = .mark) throws -> RunResult {
    let scratch = try ScratchDirectory()
    let input = try scratch.write("in.jsonl", lines: lines)
    let outputPath = scratch.path + "/out.jsonl"
    let messages = MessageLog()
    let status: Int32
    do {
        let writer = try JSONLWriter(path: outputPath)
        let run = JudgeRun(judge: judge, options: RecordFilterOptions(inputs: [input], onError: onError),
                           writer: writer, diagnostics: Diagnostics(tool: "judge") { messages.append($0) })
        run.jobs = jobs
        run.calibrateLabelField = calibrate
        status = run.run()
        try writer.flush()
    }
    let text = try String(contentsOfFile: outputPath, encoding: .utf8)
    let records = try text.split(separator: "\n").map { line -> JSONObject in
        guard let object = try JSONParser.parse(String(line)).object else { throw RecordError("not an object: \(line)") }
        return object
    }
    return RunResult(records: records, messages: messages.all, status: status)
}

final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }
}

extension JSONObject {
    /// The verdict object under `metric`.
    func verdict(_ metric: String) -> JSONObject? { self[metric]?.object }
}
