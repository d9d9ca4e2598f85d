import Foundation
import Gemma
import Hummingbird
import Inference
import Logging
import Records
import Telemetry

/// Answers the completion endpoints: checks the request against the model before taking a slot
/// (so that a bad request is a 400, never a broken stream), waits for a slot, runs the prompt on a
/// thread of its own and decodes in the model's batch (`DecodeBatcher`), logs the record and
/// records the metrics, and answers in one body or as server-sent events.
struct CompletionHandler: Sendable {
    let host: ModelHost
    let queue: AdmissionQueue
    let log: TrafficLog
    let metrics: ServerMetrics
    let logger: Logger
    /// The most tokens one request may generate (`--max-tokens-limit`); the context caps it too.
    let maxTokensLimit: Int
    /// Exports a span per answered request when an OTLP endpoint is configured.
    let telemetry: Telemetry?
    /// Requests admitted and not finished, for the bounded graceful stop.
    let running = RunningRequests()

    private enum StreamEvent: Sendable {
        case piece(TextPiece)
        case done(JSONObject)
        case failed(APIError)
    }

    /// Answers `request`. `connection` says when the client goes away: a request still waiting for
    /// a slot then leaves the queue, and a generation stops at its next piece of text and is logged
    /// with `finish_reason` "cancelled".
    func respond(_ incoming: CompletionRequest, connection: ConnectionWatcher? = nil) async throws -> Response {
        let serving = host.serving
        let engine = serving.engine
        var capped = incoming
        capped.record = try check(incoming, engine)
        let request = capped
        let cancel = CancelFlag()
        running.add(cancel)
        let waiting = Task { [queue] in try await queue.acquire() }
        let watch = connection?.onClose {
            cancel.set(CancelFlag.clientGone)
            waiting.cancel()
        }
        let done: @Sendable () -> Void = { [running] in
            running.remove(cancel)
            if let watch { connection?.remove(watch) }
        }
        do {
            try await withTaskCancellationHandler { try await waiting.value } onCancel: { waiting.cancel() }
        } catch {
            done()
            throw error
        }
        if request.stream { return stream(request, serving, cancel, done: done) }
        let out: JSONObject
        do {
            out = try await BlockingWork.run { [queue] in
                defer {
                    queue.release()
                    done()
                }
                var out = try engine.process(request.record, generate: serving.batcher.generate) { _ in !cancel.isSet }
                Self.markCut(&out, cancel)
                return out
            }
        } catch {
            throw Self.apiError(error)
        }
        let logged = finished(out, request)
        let response = CompletionResponse(kind: request.kind, id: request.id, model: engine.model.name)
        return ServerResponder.json(.ok, response.full(logged))
    }

    /// A generation stopped early says why in its record: `finish_reason` "cancelled" (the client
    /// left) or "shutdown" (the graceful stop ran out of time), and `cancelled: true`.
    private static func markCut(_ out: inout JSONObject, _ cancel: CancelFlag) {
        guard let reason = cancel.reason else { return }
        out["cancelled"] = true
        out["finish_reason"] = .string(reason)
    }

    /// The checks `process` would make, done before the response starts: parameters, the
    /// messages or prompt, and the prompt's fit in the context. Returns the record with
    /// `max_tokens` capped by the room left in the context and by `maxTokensLimit`.
    private func check(_ request: CompletionRequest, _ engine: RecordInference) throws -> JSONObject {
        do {
            let settings = try engine.settings.overridden(by: request.record)
            let ids = try PromptInput(record: request.record).tokenIDs(for: engine.model, system: settings.system)
            try GenerationRequest(promptIDs: ids, sampling: settings.sampling, stop: settings.stop, minTokens: settings.minTokens,
                                  format: settings.responseFormat?.schema)
                .checkCombinations(vocabularySize: engine.model.model.config.vocabularySize)
            let limit = engine.model.model.config.contextLength
            guard ids.count < limit else {
                throw APIError(.badRequest,
                               "The prompt has \(ids.count) tokens; the model's context holds \(limit).",
                               param: "messages", code: "context_length_exceeded")
            }
            var record = request.record
            let cap = min(maxTokensLimit, limit - ids.count)
            if settings.maxTokens > cap { record["max_tokens"] = .int(Int64(cap)) }
            return record
        } catch {
            throw Self.apiError(error)
        }
    }

    private func stream(_ request: CompletionRequest, _ serving: ModelHost.Serving, _ cancelled: CancelFlag,
                        done: @escaping @Sendable () -> Void) -> Response {
        let engine = serving.engine
        let (events, sink) = AsyncStream<StreamEvent>.makeStream()
        BlockingWork.start { [queue] in
            defer {
                queue.release()
                done()
            }
            do {
                var out = try engine.process(request.record, generate: serving.batcher.generate) { piece in
                    sink.yield(.piece(piece))
                    return !cancelled.isSet
                }
                Self.markCut(&out, cancelled)
                sink.yield(.done(finished(out, request)))
            } catch {
                sink.yield(.failed(Self.apiError(error)))
            }
            sink.finish()
        }
        let format = CompletionResponse(kind: request.kind, id: request.id, model: engine.model.name)
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[.connection] = "keep-alive"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var open = true
            var pending: [JSONObject] = request.kind == .chat ? [format.roleChunk()] : []
            // Log-probabilities go out with the piece their tokens produced; the finish chunk
            // carries the rest (an end token's, a cut stop string's).
            let withLogprobs = (try? engine.settings.overridden(by: request.record))?.topLogprobs != nil
            var sent: [JSONValue] = []
            for await event in events {
                switch event {
                case .piece(let piece):
                    let entries = piece.logprobs.map(RecordInference.json)
                    pending.append(format.textChunk(piece.text, logprobs: withLogprobs ? entries : nil, after: sent))
                    sent += entries
                case .done(let out):
                    let rest = withLogprobs ? Array((out["logprobs"]?.array ?? []).dropFirst(sent.count)) : nil
                    pending.append(format.finishChunk(out, logprobs: rest, after: sent))
                    if request.includeUsage { pending.append(format.usageChunk(out)) }
                case .failed(let error): pending.append(error.body)
                }
                guard open else { continue }
                do {
                    for chunk in pending {
                        try await writer.write(ByteBuffer(string: "data: " + JSONSerializer.string(.object(chunk)) + "\n\n"))
                    }
                } catch {
                    // The client is gone: stop the generation, which frees the slot.
                    open = false
                    cancelled.set()
                }
                pending.removeAll()
            }
            if Task.isCancelled { cancelled.set() }
            guard open, cancelled.reason != CancelFlag.clientGone else { return }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }

    /// A finished generation goes to the traffic log and the metrics, and its span (when tracing
    /// is on) to the OTLP exporter; the record logged carries the span's `trace_id` and `span_id`,
    /// so that a judge's span can join the trace. Returns the record as logged.
    private func finished(_ record: JSONObject, _ request: CompletionRequest) -> JSONObject {
        var out = record
        if let telemetry {
            let ids = telemetry.record(RequestSpan.make(request, record: out, end: Date()), parent: request.traceparent)
            if ids.isValid {
                out["trace_id"] = .string(ids.traceID)
                out["span_id"] = .string(ids.spanID)
            }
        }
        let seconds = { (field: String) in out[field]?.double.map { $0 / 1000 } }
        metrics.observeGeneration(
            promptTokens: out["prompt_tokens"]?.int ?? 0, completionTokens: out["completion_tokens"]?.int ?? 0,
            latency: seconds("latency_ms") ?? 0, timeToFirstToken: seconds("ttft_ms"))
        do { try log.append(out) } catch {
            logger.error("traffic log \(log.path): \(error)")
        }
        return out
    }

    /// The field a record error names ("field 'stop[1]' must be ..." names `stop`).
    static func field(in message: String) -> String? {
        guard message.hasPrefix("field '") else { return nil }
        let name = message.dropFirst(7).prefix { $0 != "'" && $0 != "[" && $0 != "." }
        return name.isEmpty ? nil : String(name)
    }

    /// What the client is told about a failure: a bad record or parameter is a 400, anything else
    /// a 500 whose message names the failure.
    static func apiError(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as RecordError: return .badRequest(e.description, param: field(in: e.message))
        case let e as GemmaError:
            if case .invalidParameter(let name, _) = e { return .badRequest(e.description, param: name) }
            return .badRequest(e.description)
        default: return APIError(.internalServerError, "Generation failed: \(error)", type: "server_error")
        }
    }
}
