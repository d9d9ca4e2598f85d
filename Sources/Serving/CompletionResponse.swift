import Foundation
import Records

/// OpenAI response bodies made from the engine's output record: the whole answer
/// (`chat.completion` / `text_completion`) and the server-sent-event chunks of a streamed one.
struct CompletionResponse {
    let kind: CompletionRequest.Kind
    let id: String
    let model: String
    let created = Int64(Date().timeIntervalSince1970)

    /// The answer as one object, with `usage`.
    func full(_ out: JSONObject) -> JSONObject {
        let text = out["answer"]?.string ?? ""
        var choice: JSONObject = ["index": 0]
        switch kind {
        case .chat: choice["message"] = ["role": "assistant", "content": .string(text)]
        case .completion: choice["text"] = .string(text)
        }
        choice["logprobs"] = logprobs(out["logprobs"])
        choice["finish_reason"] = out["finish_reason"] ?? .null
        var body = head(kind.object)
        body["choices"] = [.object(choice)]
        body["usage"] = .object(usage(out))
        return body
    }

    /// The first chunk of a chat stream: the role, no content yet (as OpenAI sends it).
    func roleChunk() -> JSONObject {
        chunk(delta: ["role": "assistant", "content": ""], text: "", finish: .null)
    }

    /// A piece of the answer, with the log-probabilities (record entries) of the tokens sampled
    /// for it when they were asked for; `earlier` are those already sent (for text offsets).
    func textChunk(_ piece: String, logprobs entries: [JSONValue]? = nil, after earlier: [JSONValue] = []) -> JSONObject {
        chunk(delta: ["content": .string(piece)], text: piece, finish: .null,
              logprobs: entries.map { logprobs(.array($0), after: earlier) } ?? .null)
    }

    /// The last chunk of the choice: the finish reason, and the log-probabilities not sent with
    /// a piece when they were asked for.
    func finishChunk(_ out: JSONObject, logprobs entries: [JSONValue]? = nil, after earlier: [JSONValue] = []) -> JSONObject {
        chunk(delta: [:], text: "", finish: out["finish_reason"] ?? .null,
              logprobs: entries.map { logprobs(.array($0), after: earlier) } ?? .null)
    }

    /// `stream_options.include_usage`: a chunk with no choices and the usage.
    func usageChunk(_ out: JSONObject) -> JSONObject {
        var c = head(kind.chunkObject)
        c["choices"] = []
        c["usage"] = .object(usage(out))
        return c
    }

    private func chunk(delta: JSONObject, text: String, finish: JSONValue, logprobs: JSONValue = .null) -> JSONObject {
        var choice: JSONObject = ["index": 0]
        switch kind {
        case .chat: choice["delta"] = .object(delta)
        case .completion: choice["text"] = .string(text)
        }
        choice["logprobs"] = logprobs
        choice["finish_reason"] = finish
        var c = head(kind.chunkObject)
        c["choices"] = [.object(choice)]
        return c
    }

    private func head(_ object: String) -> JSONObject {
        ["id": .string(id), "object": .string(object), "created": .int(created), "model": .string(model),
         "system_fingerprint": .null]
    }

    private func usage(_ out: JSONObject) -> JSONObject {
        let p = out["prompt_tokens"]?.int ?? 0, c = out["completion_tokens"]?.int ?? 0
        return ["prompt_tokens": JSONValue(p), "completion_tokens": JSONValue(c), "total_tokens": JSONValue(p + c)]
    }

    /// The record's `logprobs` ([{id, token, logprob, top_logprobs}]) in the API's shape: chat's
    /// `{"content": [{token, logprob, bytes, top_logprobs}]}`, or the completions API's
    /// `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`, whose offsets
    /// count from the start of the answer, after the `earlier` entries' tokens.
    private func logprobs(_ v: JSONValue?, after earlier: [JSONValue] = []) -> JSONValue {
        guard let items = v?.array else { return .null }
        let entries = items.compactMap(\.object)
        switch kind {
        case .chat:
            func entry(_ e: JSONObject) -> JSONObject {
                let token = e["token"]?.string ?? ""
                return ["token": .string(token), "logprob": e["logprob"] ?? .null,
                        "bytes": .array(token.utf8.map { JSONValue(Int($0)) })]
            }
            return ["content": .array(entries.map { e in
                var o = entry(e)
                o["top_logprobs"] = .array((e["top_logprobs"]?.array ?? []).compactMap(\.object).map { .object(entry($0)) })
                return .object(o)
            })]
        case .completion:
            var offset = earlier.reduce(0) { $0 + ($1["token"]?.string ?? "").count }
            var offsets: [JSONValue] = []
            for e in entries {
                offsets.append(JSONValue(offset))
                offset += (e["token"]?.string ?? "").count
            }
            return ["tokens": .array(entries.map { $0["token"] ?? "" }),
                    "token_logprobs": .array(entries.map { $0["logprob"] ?? .null }),
                    "top_logprobs": .array(entries.map { e in
                        var top = JSONObject()
                        for t in (e["top_logprobs"]?.array ?? []).compactMap(\.object) {
                            if let token = t["token"]?.string { top[token] = t["logprob"] ?? .null }
                        }
                        return .object(top)
                    }),
                    "text_offset": .array(offsets)]
        }
    }
}
