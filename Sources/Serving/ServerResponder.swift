import Foundation
import Hummingbird
import Inference
import HTTPTypes
import NIOCore
import Records

/// Routes requests to the endpoints and turns every failure into an OpenAI-style error body with
/// its status: 404 for an unknown path, 405 for a known path with the wrong method, 401 for a
/// missing or wrong API key, 413 for an oversized body. Routing is a plain table rather than
/// Hummingbird's router so that those answers are the API's JSON, not the framework's defaults.
struct ServerResponder: HTTPResponder {
    /// Hummingbird's basic context plus the request's connection, whose close ends the request's
    /// wait for a slot or its generation.
    struct Context: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            channel = source.channel
        }
    }

    let server: InferenceServer

    /// Path -> (method, needs the API key).
    private static let routes: [String: (method: HTTPRequest.Method, authenticated: Bool)] = [
        "/health": (.get, false),
        "/metrics": (.get, false),
        "/v1/models": (.get, true),
        "/v1/chat/completions": (.post, true),
        "/v1/completions": (.post, true),
        "/v1/feedback": (.post, true),
        "/admin/reload": (.post, true),
    ]

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let response: Response
        do {
            let watcher = try? await context.channel.pipeline.handler(type: ConnectionWatcher.self).get()
            response = try await route(request, path: path, watcher: watcher)
        } catch {
            let e = CompletionHandler.apiError(error is CancellationError ? APIError.shuttingDown : error)
            response = Self.json(e.status, e.body, headers: e.headers)
            // A request the API refused is logged too (not a client that left while queued), so the
            // windows' share of rejected requests sees it.
            if Self.loggedEndpoints.contains(path), !(error is CancellationError) { logRejected(e, path: path) }
        }
        let endpoint = Self.routes[path] == nil ? "other" : path
        server.metrics.countRequest(endpoint: endpoint, status: response.status.code)
        return response
    }

    private func route(_ request: Request, path: String, watcher: ConnectionWatcher?) async throws -> Response {
        guard let route = Self.routes[path] else { throw APIError.notFound(path) }
        guard request.method == route.method else {
            throw APIError.methodNotAllowed(request.method, path, allowed: route.method.rawValue)
        }
        if route.authenticated { try authenticate(request) }
        switch path {
        case "/health":
            return Self.json(.ok, ["status": "ok", "model": .string(server.host.engine.model.name),
                                   "reloads": JSONValue(server.host.reloads)])
        case "/metrics":
            let text = server.metrics.render(queueDepth: server.queue.depth, inFlight: server.queue.active,
                                             reloads: server.host.reloads)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        case "/v1/models":
            let name = server.host.engine.model.name
            let model: JSONObject = ["id": .string(name), "object": "model", "created": .int(server.started),
                                     "owned_by": "gemma-infer"]
            return Self.json(.ok, ["object": "list", "data": [.object(model)]])
        case "/v1/chat/completions", "/v1/completions":
            var completion = try CompletionRequest(kind: path == "/v1/chat/completions" ? .chat : .completion,
                                                   body: try await body(request))
            completion.traceparent = request.headers[HTTPField.Name("traceparent")!]
            return try await server.completions.respond(completion, connection: watcher)
        case "/v1/feedback":
            let feedback = try FeedbackRequest(body: try await body(request), defaultScale: server.configuration.feedbackScale,
                                               log: server.log)
            try server.log.append(feedback.record)
            server.metrics.countFeedback(feedback.rating.label)
            return Self.json(.ok, ["object": "feedback", "id": feedback.record["id"] ?? .null,
                                   "feedback_id": feedback.record["feedback_id"] ?? .null, "status": "logged"])
        default:  // "/admin/reload"
            let model = try await server.reload()
            return Self.json(.ok, ["object": "reload", "model": .string(model), "reloads": JSONValue(server.host.reloads)])
        }
    }

    /// The endpoints whose refused requests are logged.
    static let loggedEndpoints: Set<String> = ["/v1/chat/completions", "/v1/completions", "/v1/feedback"]

    /// `{"type": "rejected", "id", "endpoint", "status", "error": {message, type, param, code},
    /// "model", "adapter", "ts"}`: the serving model and adapter, so that windows grouped by them
    /// count the refusal in the model's group.
    private func logRejected(_ e: APIError, path: String) {
        let engine = server.host.engine
        let record: JSONObject = [
            "type": "rejected", "id": .string(RecordInference.newID(prefix: "rej-")), "endpoint": .string(path),
            "status": .int(Int64(e.status.code)), "error": e.body["error"] ?? .null,
            "model": .string(engine.model.name), "adapter": engine.adapterName.map(JSONValue.string) ?? .null,
            "ts": .string(Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970).rfc3339),
        ]
        do { try server.log.append(record) } catch {
            server.logger.error("traffic log \(server.log.path): \(error)")
        }
    }

    /// With `--api-key`, the bearer token must equal it (compared in constant time). The admin
    /// endpoint needs a key to be configured at all.
    private func authenticate(_ request: Request) throws {
        guard let key = server.configuration.apiKey else {
            if request.uri.path.hasPrefix("/admin/") {
                throw APIError(.forbidden, "Admin endpoints are disabled: start the server with --api-key.",
                               type: "permission_error")
            }
            return
        }
        guard let token = Self.bearerToken(request.headers[.authorization] ?? ""),
              Self.constantTimeEqual(Array(token.utf8), Array(key.utf8))
        else { throw APIError.unauthorized }
    }

    private func body(_ request: Request) async throws -> [UInt8] {
        let limit = server.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: limit)
        }
    }

    /// The token of a `Bearer` credential. The scheme name is case-insensitive (RFC 7235, 2.1),
    /// and one or more spaces separate it from the token.
    static func bearerToken(_ header: String) -> String? {
        let scheme = header.prefix { $0 != " " }
        guard scheme.lowercased() == "bearer" else { return nil }
        let token = header.dropFirst(scheme.count).drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSONObject, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: JSONSerializer.string(.object(body)))))
    }
}
