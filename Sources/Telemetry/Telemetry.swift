import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Spans over OTLP/HTTP (protobuf), through swift-otel, when the environment names an endpoint.
///
/// The standard variables configure it: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns it on; `OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// `OTEL_TRACES_SAMPLER` and the rest are read by swift-otel; `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none` turn it off. Only traces are exported: the tools' metrics are
/// Prometheus text and their logs are the records themselves.
///
/// Spans are recorded after the fact, from what a tool already measured (a served request's
/// start and end, a judged record's), so tracing adds no work to the generation or judging path.
/// `finish()` exports what is still queued; an exporter that cannot reach its endpoint is
/// reported on stderr and never stops the tool.
public final class Telemetry: Sendable {
    private let tracer: any Tracer
    private let group: ServiceGroup
    private let running: Task<Void, Never>

    /// Telemetry configured by `environment`, or nil when no OTLP endpoint is set (or it is turned off).
    public static func fromEnvironment(serviceName: String,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Telemetry? {
        let endpoint = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
        guard let endpoint, !endpoint.isEmpty else { return nil }
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
        if environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "none" { return nil }
        if let p = environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? environment["OTEL_EXPORTER_OTLP_PROTOCOL"],
           !["http/protobuf", "http/json"].contains(p) {
            throw TelemetryError("OTEL_EXPORTER_OTLP_PROTOCOL=\(p): only http/protobuf and http/json are built in (not grpc)")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(500)
        var diagnostics = Logger(label: "otel") { StreamLogHandler.standardError(label: $0) }
        diagnostics.logLevel = .warning
        configuration.diagnosticLogger = .custom(diagnostics)
        configuration.diagnosticLogLevel = .warning
        let backend: (factory: any Tracer, service: any Service)
        do {
            let made = try OTel.makeTracingBackend(configuration: configuration)
            backend = (made.factory, made.service)
        } catch {
            throw TelemetryError("OpenTelemetry (endpoint \(endpoint)): \(error)")
        }
        return Telemetry(tracer: backend.factory, service: backend.service, logger: diagnostics)
    }

    private init(tracer: any Tracer, service: any Service, logger: Logger) {
        self.tracer = tracer
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        running = Task {
            do { try await group.run() } catch { logger.warning("OpenTelemetry exporter stopped: \(error)") }
        }
    }

    /// Records one finished span and returns its ids. `parent` is a W3C `traceparent` value (the
    /// span joins that trace as its child) or nil (a new trace); a malformed or all-zero one starts
    /// a new trace too (checked here, so that whoever supplies it cannot fill stderr with the
    /// exporter's warnings).
    @discardableResult
    public func record(_ span: SpanRecord, parent: String? = nil) -> SpanIDs {
        recordSpan(tracer, span, parent: parent)
    }

    private func recordSpan<T: Tracer>(_ tracer: T, _ record: SpanRecord, parent: String?) -> SpanIDs {
        var context = InstrumentationContext.topLevel
        if let parent, SpanIDs(traceparent: parent)?.isValid == true {
            tracer.extract(["traceparent": parent], into: &context, using: HeaderCarrier())
        }
        let span = tracer.startSpan(record.name, context: context, ofKind: record.kind, at: Instant(record.start))
        span.attributes = record.attributes
        for event in record.events {
            span.addEvent(SpanEvent(name: event.name, at: Instant(event.time), attributes: event.attributes))
        }
        if let message = record.errorMessage {
            span.setStatus(SpanStatus(code: .error, message: message))
        }
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: HeaderCarrier())
        span.end(at: Instant(record.end))
        return SpanIDs(traceparent: headers["traceparent"]) ?? SpanIDs(traceID: "", spanID: "")
    }

    /// Exports the spans still queued and stops the exporter (bounded by swift-otel's export timeout).
    public func finish() async {
        await group.triggerGracefulShutdown()
        await running.value
    }

    /// `finish()` for synchronous callers (the filters' main loops).
    public func finishBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task {
            await finish()
            done.signal()
        }
        done.wait()
    }
}

/// A span measured by the caller: its name, kind, times, attributes, events and error status.
public struct SpanRecord: Sendable {
    public struct Event: Sendable {
        public var name: String
        public var time: Date
        public var attributes: SpanAttributes
        public init(name: String, time: Date, attributes: SpanAttributes) {
            self.name = name
            self.time = time
            self.attributes = attributes
        }
    }

    public var name: String
    public var kind: SpanKind
    public var start: Date
    public var end: Date
    public var attributes: SpanAttributes = [:]
    public var events: [Event] = []
    /// Set: the span's status is error with this message.
    public var errorMessage: String?

    public init(name: String, kind: SpanKind, start: Date, end: Date) {
        self.name = name
        self.kind = kind
        self.start = start
        self.end = max(start, end)
    }
}

/// A span's W3C ids: 32 and 16 lower-case hex digits.
public struct SpanIDs: Sendable, Equatable {
    public var traceID: String
    public var spanID: String

    public init(traceID: String, spanID: String) {
        self.traceID = traceID
        self.spanID = spanID
    }

    /// Reads a `traceparent` value ("00-<trace id>-<span id>-<flags>").
    public init?(traceparent: String?) {
        guard let parts = traceparent?.split(separator: "-"), parts.count == 4,
              parts[1].count == 32, parts[2].count == 16,
              parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit) else { return nil }
        traceID = String(parts[1]).lowercased()
        spanID = String(parts[2]).lowercased()
    }

    /// The `traceparent` that makes a new span this span's child (sampled).
    public var traceparent: String { "00-\(traceID)-\(spanID)-01" }

    /// Ids that can be a parent: well-formed and not all zero (the W3C invalid ids).
    public var isValid: Bool {
        traceID.count == 32 && spanID.count == 16 && traceID.allSatisfy(\.isHexDigit) && spanID.allSatisfy(\.isHexDigit)
            && traceID.contains { $0 != "0" } && spanID.contains { $0 != "0" }
    }
}

public struct TelemetryError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Reads and writes W3C trace-context headers in a dictionary.
private struct HeaderCarrier: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// A wall-clock time as the tracing API's instant.
private struct Instant: TracerInstant {
    let nanosecondsSinceEpoch: UInt64
    init(_ date: Date) { nanosecondsSinceEpoch = UInt64(max(0, date.timeIntervalSince1970) * 1e9) }
    static func < (a: Instant, b: Instant) -> Bool { a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch }
}
