import Foundation
import Records

/// The built `gemma-infer serve` running as a child process on a free loopback port, as a user would
/// start it: the port is read from its "listening on" line on stderr.
public final class ServeProcess {
    public let process = Process()
    public let port: Int
    /// The traffic log (`--log`), removed with the value.
    public let logPath: String
    private let ownsLog: Bool
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Starts the server on `model` and returns once it listens; throws with its stderr when it exits
    /// first, or when it has not listened within `patience` seconds (a guard against a hung test, not
    /// a timing).
    /// `environment` is added to the test's (e.g. the OpenTelemetry variables); `arguments` to the
    /// server's. `log` continues an existing traffic log (kept when the value goes); by default a
    /// new temporary one is used and removed.
    public init(model: String, threads: Int = 2, patience: Double = 300, environment: [String: String] = [:],
                arguments: [String] = [], log: String? = nil) throws {
        logPath = log ?? temporaryPath(".serve-log.jsonl")
        ownsLog = log == nil
        process.executableURL = productsDirectory(containing: "gemma-infer").appendingPathComponent("gemma-infer")
        process.arguments = ["serve", "--model", model, "--threads", String(threads), "--host", "127.0.0.1", "--port", "0",
                             "--log", logPath] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        port = try startListening(process, name: "gemma-infer serve", patience: patience)
    }

    /// SIGTERM (a graceful stop) and wait for the exit.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        stop()
        if ownsLog { try? FileManager.default.removeItem(atPath: logPath) }
    }
}

/// Starts `process` (a server that prints "listening on http://HOST:PORT" on stderr, its stdout
/// discarded) and returns the port once it listens; throws with its stderr when it exits first or
/// has not listened within `patience` seconds (a guard against a hung test, not a timing).
public func startListening(_ process: Process, name: String, patience: Double) throws -> Int {
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    let listening = ListeningLine()
    errors.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        listening.feed(data)
        if data.isEmpty { handle.readabilityHandler = nil }
    }
    try process.run()
    guard listening.wait(seconds: patience), let port = listening.port else {
        process.terminate()
        process.waitUntilExit()
        throw RecordError("\(name) did not start: \(listening.text)")
    }
    return port
}

/// Collects a server's stderr and finds the port in "listening on http://127.0.0.1:PORT".
public final class ListeningLine: @unchecked Sendable {
    private let lock = NSLock()
    private let found = DispatchSemaphore(value: 0)
    private var buffer = Data()
    private var signalled = false
    public private(set) var port: Int?

    public init() {}

    public var text: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }

    public func feed(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        buffer.append(data)
        let text = String(decoding: buffer, as: UTF8.self)
        if port == nil, let range = text.range(of: #"listening on http://[^:\s]+:[0-9]+"#, options: .regularExpression) {
            port = Int(text[range].split(separator: ":").last ?? "")
        }
        // Found, or the stream ended (the server exited): either way the waiter can go on.
        if !signalled && (port != nil || data.isEmpty) {
            signalled = true
            found.signal()
        }
    }

    public func wait(seconds: Double) -> Bool {
        found.wait(timeout: .now() + seconds) == .success
    }
}
