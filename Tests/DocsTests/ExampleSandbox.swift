import Foundation
import Records
import TestSupport

// Runs a man page example as a user would: /bin/bash -euo pipefail in a fresh directory holding the
// fixtures (Fixtures/, the repository's judge configs under examples/judges and the bank's policy
// examples/banking/policy.json), with this build's tools first in PATH and a loopback server standing
// in for a hosted OpenAI-compatible model.

/// What one example did.
struct ExampleRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var directory: URL
}

/// A fresh working directory per example, and the environment the examples expect.
struct ExampleSandbox: Sendable {
    /// The repository root: this file is Tests/DocsTests/ExampleSandbox.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    enum SetupError: Error, CustomStringConvertible {
        case missingFixtures
        var description: String { "the DocsTests Fixtures resource is missing from the test bundle" }
    }

    /// Stands in for `https://api.openai.com/v1` as `$OPENAI_BASE_URL`: a judge request (it asks
    /// for a score) gets a verdict, anything else (a teacher model) gets a banking assistant's answer.
    static func hostedModel() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer(handler: { request in
            let judging = request.text.contains("response_format") || request.text.contains("score")
            let content = judging
                ? #"{"score": 1, "explanation": "The answer stays on the question."}"#
                : "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?"
            let body: JSONObject = [
                "id": "chatcmpl-docs", "object": "chat.completion", "model": "judge",
                "choices": .array([.object(["index": 0, "finish_reason": "stop",
                                            "message": .object(["role": "assistant", "content": .string(content)])])]),
                "usage": .object(["prompt_tokens": 120, "completion_tokens": 16]),
            ]
            return .json(JSONSerializer.string(.object(body)))
        })
    }

    /// A TCP port free at the time of asking, for examples that start `gemma-infer serve`.
    static func freePort() throws -> Int {
        let probe = try LoopbackHTTPServer()
        defer { probe.stop() }
        return probe.port
    }

    let directory: URL

    init() throws {
        directory = URL(fileURLWithPath: temporaryPath("-docs-example"))
        let files = FileManager.default
        guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw SetupError.missingFixtures
        }
        try files.copyItem(at: fixtures, to: directory)
        try files.copyItem(at: Self.root.appendingPathComponent("examples/judges"),
                           to: directory.appendingPathComponent("examples/judges"))
        try files.copyItem(at: Self.root.appendingPathComponent("examples/banking/policy.json"),
                           to: directory.appendingPathComponent("examples/banking/policy.json"))
    }

    /// Longest an example may run: a hang guard (an example that waits for a server that never
    /// came up), not a measure; GNU timeout then stops the example's whole process group, and the
    /// example fails with status 124.
    static let timeLimit = "1800"

    /// Runs `script` with bash in the sandbox; `environment` is added to this process's environment.
    func run(_ script: String, environment: [String: String]) throws -> ExampleRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=30", Self.timeLimit, "/bin/bash", "-euo", "pipefail", "-c", script]
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        let products = productsDirectory(containing: "judge").path
        env["PATH"] = products + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["FEEDBACKLOOP_MODEL"] = RealModel.path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let outPath = temporaryPath("-docs-example.out"), errPath = temporaryPath("-docs-example.err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return ExampleRun(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            directory: directory)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
