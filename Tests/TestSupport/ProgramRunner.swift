import Foundation

// Running any program (a shell script, Prometheus's promtool, Spark) from tests, and the shell
// commands an example's README prints.

/// What a program run to its end did.
public struct ProgramRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to its end in `directory`, with `environment` added to the test's; stdin from
/// `stdin`, stdout and stderr through temporary files (no pipe to fill up).
public func runProgram(_ executable: String, _ arguments: [String], stdin: String = "", directory: String? = nil,
                       environment: [String: String] = [:]) throws -> ProgramRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let inPath = temporaryPath(".in"), outPath = temporaryPath(".out"), errPath = temporaryPath(".err")
    defer { for path in [inPath, outPath, errPath] { try? FileManager.default.removeItem(atPath: path) } }
    try stdin.write(toFile: inPath, atomically: true, encoding: .utf8)
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    process.waitUntilExit()
    for handle in [input, output, errors] { try? handle.close() }
    return ProgramRun(status: process.terminationStatus, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// The ```sh blocks of a Markdown text, in order, and whether one is left open at the end.
public func shellBlocks(ofMarkdown text: String) -> (blocks: [String], unclosed: Bool) {
    var blocks: [String] = []
    var current: [String]? = nil
    for line in text.components(separatedBy: "\n") {
        if current == nil, line == "```sh" {
            current = []
        } else if current != nil, line == "```" {
            blocks.append(current!.joined(separator: "\n"))
            current = nil
        } else {
            current?.append(line)
        }
    }
    return (blocks, current != nil)
}
