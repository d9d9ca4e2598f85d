import Dispatch
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Telemetry

/// `gemma-infer serve`: the OpenAI-compatible HTTP/1.1 server over one model.
///
/// Lifecycle: SIGTERM (or SIGINT, or `shutdown()`) stops accepting connections, lets every request
/// in flight finish, flushes the traffic log and returns from `run`. SIGHUP (or `POST
/// /admin/reload`) loads the model again from its path and switches new requests to it, while
/// those in flight finish on the old one.
public final class InferenceServer: Sendable {
    public let configuration: ServeConfiguration
    let host: ModelHost
    let log: TrafficLog
    let metrics = ServerMetrics()
    let queue: AdmissionQueue
    let completions: CompletionHandler
    /// The server's own messages (reloads, a traffic log that cannot be written).
    let logger: Logger
    /// Unix time the server started (the `created` of /v1/models).
    let started = Int64(Date().timeIntervalSince1970)
    private let group = GroupBox()

    /// `telemetry`: a span per answered request goes to its OTLP endpoint; `run` exports what is
    /// left when it returns.
    public init(configuration: ServeConfiguration, host: ModelHost, log: TrafficLog,
                logger: Logger = Logger(label: "gemma-infer"), telemetry: Telemetry? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.host = host
        self.log = log
        self.logger = logger
        queue = AdmissionQueue(slots: configuration.parallel, capacity: configuration.queueCapacity)
        completions = CompletionHandler(host: host, queue: queue, log: log, metrics: metrics, logger: logger,
                                        maxTokensLimit: configuration.maxTokensLimit, telemetry: telemetry)
    }

    /// Serves until shut down. `handleSignals` installs SIGTERM/SIGINT (graceful stop) and SIGHUP
    /// (reload); tests leave it off and call `shutdown()`. `onListening` receives the bound port.
    public func run(handleSignals: Bool = true, onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "gemma-infer") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .warning
        let app = Application(
            responder: ServerResponder(server: self),
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatcher()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "gemma-infer"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger)
        // A connection that never completes its request (a body announced and not sent) would hold
        // the graceful stop for ever: once the requests in flight have been cut (shutdownTimeout)
        // and have had `closingGrace` seconds to answer and be logged, the server is cancelled,
        // which closes every connection still open.
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(
            Int64(min(configuration.shutdownTimeout + Self.closingGrace, 1e9) * 1000))
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        await group.set(serviceGroup)
        let signals = handleSignals ? installSignals() : []
        defer { signals.forEach { $0.cancel() } }
        var failure: Error?
        do { try await serviceGroup.run() } catch { failure = error }
        if let failure, await group.isStopping {
            // Cancelled after a stop was asked for: the stop, not a failure; noted all the same.
            self.logger.notice("graceful stop ended by closing the connections still open (\(failure))")
        }
        do { try log.flush() } catch {
            if let failure { self.logger.error("the server stopped with \(failure)") }
            throw error
        }
        await completions.telemetry?.finish()
        if let failure, !(await group.isStopping) { throw failure }
    }

    /// Seconds a stop allows, after cutting the requests still running, before it closes the
    /// connections left open.
    public static let closingGrace = 5.0

    /// Stops accepting, finishes the requests in flight, then `run` returns. Requests still
    /// generating after `shutdownTimeout` seconds are cut short (logged with `finish_reason`
    /// "shutdown"), as is any queued request that starts after that.
    public func shutdown() async {
        let timeout = configuration.shutdownTimeout
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [completions, logger] in
            let cut = completions.running.cutAll()
            if cut > 0 {
                logger.notice("graceful stop: cut \(cut) request(s) still running after \(timeout) s; logged with finish_reason \"shutdown\"")
            }
        }
        await group.setStopping()
        await group.get()?.triggerGracefulShutdown()
    }

    /// Loads the model again and switches over; returns the new model's name.
    @discardableResult
    public func reload() async throws -> String {
        do {
            let model = try await BlockingWork.run { [host] in try host.reload() }
            logger.notice("reloaded \(model.path)")
            return model.name
        } catch {
            logger.error("reload failed, still serving the previous model: \(error)")
            throw APIError(.internalServerError, "Reload failed, the previous model still serves: \(error)",
                           type: "server_error", code: "reload_failed")
        }
    }

    /// SIGHUP reloads; SIGTERM and SIGINT start the bounded graceful stop (`shutdown()`).
    private func installSignals() -> [DispatchSourceSignal] {
        [SIGHUP, SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                Task {
                    if number == SIGHUP { _ = try? await self.reload() } else { await self.shutdown() }
                }
            }
            source.resume()
            return source
        }
    }
}

/// The running service group, set once `run` starts, for `shutdown()`.
private actor GroupBox {
    private var group: ServiceGroup?
    private(set) var isStopping = false
    func set(_ g: ServiceGroup) { group = g }
    func get() -> ServiceGroup? { group }
    func setStopping() { isStopping = true }
}
