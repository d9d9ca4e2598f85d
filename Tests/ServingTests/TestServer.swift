import Foundation
import TestSupport
import Gemma
import HTTPClient
import Inference
import Logging
import Records
@testable import Serving

/// A real server on a free loopback port, over the given model, logging to a temporary file; the
/// tests talk to it with the project's libcurl client. Blocking client calls run on threads of
/// their own (`offCooperativePool`) so they never hold the threads the server's handlers need.
final class TestServer: @unchecked Sendable {
    let server: InferenceServer
    let port: Int
    let logPath: String
    private let finished = DispatchSemaphore(value: 0)
    private(set) var runError: Error?

    init(model: @escaping @Sendable () throws -> LoadedModel, settings: InferenceSettings = InferenceSettings(),
         configure: (inout ServeConfiguration) -> Void = { _ in }) async throws {
        logPath = NSTemporaryDirectory() + "serving-log-\(UUID().uuidString).jsonl"
        var config = ServeConfiguration(modelPath: "test", threads: 2, logPath: logPath)
        config.port = 0
        config.settings = settings
        configure(&config)
        let host = try ModelHost(settings: settings, load: model)
        server = try InferenceServer(configuration: config, host: host, log: try TrafficLog(path: logPath),
                                     logger: Logger(label: "gemma-infer") { _ in SwiftLogNoOpLogHandler() })
        let portBox = PortBox()
        let listening = DispatchSemaphore(value: 0)
        let server = self.server, finished = self.finished
        Task {
            do {
                try await server.run(handleSignals: false) { port in
                    portBox.port = port
                    listening.signal()
                }
            } catch {
                portBox.error = error
                listening.signal()
            }
            finished.signal()
        }
        try await offCooperativePool { listening.wait() }
        if let e = portBox.error { throw e }
        port = portBox.port
    }

    deinit { try? FileManager.default.removeItem(atPath: logPath) }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Graceful stop; returns once `run` has returned (in-flight requests done, log flushed).
    func stop() async throws {
        await server.shutdown()
        try await offCooperativePool { [finished] in finished.wait() }
    }

    /// The traffic log's records.
    func logRecords() throws -> [JSONObject] {
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let o = try JSONParser.parse(String(line)).object else { throw TestFailure("log line is not an object: \(line)") }
            return o
        }
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = []) async throws -> (status: Int, json: JSONObject?, text: String) {
        let request = HTTPRequest.postJSON(url: url(path), body: Array(body.utf8), headers: headers, timeout: 600)
        return try await send(request)
    }

    func send(_ request: HTTPRequest) async throws -> (status: Int, json: JSONObject?, text: String) {
        let response = try await offCooperativePool { try HTTPClient().perform(request) }
        return (response.status, (try? JSONParser.parse(response.text))?.object, response.text)
    }

    /// A streamed completion: the `data:` payloads in order (the last is "[DONE]").
    func stream(_ path: String, _ body: String, stopAfter: Int = .max) async throws -> [String] {
        let request = HTTPRequest.postJSON(url: url(path), body: Array(body.utf8), timeout: 600)
        return try await offCooperativePool {
            var parser = SSEParser()
            var events: [String] = []
            var parseError: Error?
            _ = try HTTPClient().stream(request) { bytes in
                do { events += try parser.feed(bytes).map(\.data) } catch { parseError = error }
                return parseError == nil && events.count < stopAfter
            }
            if let parseError { throw parseError }
            return events
        }
    }
}

private final class PortBox: @unchecked Sendable {
    var port = 0
    var error: Error?
}

