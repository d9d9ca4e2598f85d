import Foundation
import Gemma
import Hummingbird
import Inference
import Logging
import Records

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

    private enum StreamEvent: Sendable {
        case piece(TextPiece)
        case done(JSONObject)
        case failed(APIError)
    }

    func respond(_ request: CompletionRequest) async throws -> Response {
        let serving = host.serving
        let engine = serving.engine
        try check(request, engine)
        try await queue.acquire()
        if request.stream { return stream(request, serving) }
        let out: JSONObject
        do {
            out = try await BlockingWork.run { [queue] in
                defer { queue.release() }
                return try engine.process(request.record, generate: serving.batcher.generate, onPiece: nil)
            }
        } catch {
            throw Self.apiError(error)
        }
        finished(out)
        let response = CompletionResponse(kind: request.kind, id: request.id, model: engine.model.name)
        return ServerResponder.json(.ok, response.full(out))
    }

    /// The checks `process` would make, done before the response starts: parameters, the
    /// messages or prompt, and the prompt's fit in the context.
    private func check(_ request: CompletionRequest, _ engine: RecordInference) throws {
        do {
            let settings = try engine.settings.overridden(by: request.record)
            let ids = try PromptInput(record: request.record).tokenIDs(for: engine.model, system: settings.system)
            let limit = engine.model.model.config.contextLength
            guard ids.count < limit else {
                throw APIError(.badRequest,
                               "The prompt has \(ids.count) tokens; the model's context holds \(limit).",
                               param: "messages", code: "context_length_exceeded")
            }
        } catch {
            throw Self.apiError(error)
        }
    }

    private func stream(_ request: CompletionRequest, _ serving: ModelHost.Serving) -> Response {
        let engine = serving.engine
        let (events, sink) = AsyncStream<StreamEvent>.makeStream()
        let cancelled = CancelFlag()
        BlockingWork.start { [queue] in
            defer { queue.release() }
            do {
                var out = try engine.process(request.record, generate: serving.batcher.generate) { piece in
                    sink.yield(.piece(piece))
                    return !cancelled.isSet
                }
                if cancelled.isSet { out["cancelled"] = true }
                finished(out)
                sink.yield(.done(out))
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
            guard open, !cancelled.isSet else { return }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }

    /// A finished generation goes to the traffic log and the metrics.
    private func finished(_ out: JSONObject) {
        let seconds = { (field: String) in out[field]?.double.map { $0 / 1000 } }
        metrics.observeGeneration(
            promptTokens: out["prompt_tokens"]?.int ?? 0, completionTokens: out["completion_tokens"]?.int ?? 0,
            latency: seconds("latency_ms") ?? 0, timeToFirstToken: seconds("ttft_ms"))
        do { try log.append(out) } catch {
            logger.error("traffic log \(log.path): \(error)")
        }
    }

    /// What the client is told about a failure: a bad record or parameter is a 400, anything else
    /// a 500 whose message names the failure.
    static func apiError(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as RecordError: return .badRequest(e.description)
        case let e as GemmaError: return .badRequest(e.description)
        default: return APIError(.internalServerError, "Generation failed: \(error)", type: "server_error")
        }
    }
}
