import Foundation
import Records

// Running the project's built tools from tests, as a user would from a shell.

public func temporaryPath(_ suffix: String) -> String {
    NSTemporaryDirectory() + "monitoring-\(UUID().uuidString)\(suffix)"
}

/// The directory holding the built executables (gemma-infer, score-window, …) next to the test bundle.
public func productsDirectory(containing tool: String = "score-window") -> URL {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 where !FileManager.default.fileExists(atPath: url.appendingPathComponent(tool).path) {
        url = url.deletingLastPathComponent()
    }
    return url
}

/// What a tool run by `runTool` did.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var records: [JSONObject] {
        stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)).object }
    }
}

/// Runs a built tool with `stdin` as its input (stdin and stderr go through temporary files).
public func runTool(_ tool: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> RunResult {
    let process = Process()
    process.executableURL = productsDirectory(containing: tool).appendingPathComponent(tool)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let inPath = temporaryPath(".in"), errPath = temporaryPath(".err")
    defer {
        try? FileManager.default.removeItem(atPath: inPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    try stdin.write(toFile: inPath, atomically: true, encoding: .utf8)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try? input.close()
    try? errors.close()
    let errText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: errText)
}

/// `runTool` from an async test: the tool runs while the test's cooperative-pool thread is free
/// (see `offCooperativePool`).
public func runTool(_ tool: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:]) async throws -> RunResult {
    try await offCooperativePool { try runTool(tool, arguments, stdin: stdin, environment: environment) }
}

public func jsonl(_ records: [JSONObject]) -> String {
    records.map { $0.description + "\n" }.joined()
}
