import Foundation
import Gemma
import Records

/// Turns an input record into an output record: the record's own fields, then the answer and the
/// monitoring fields (`answer`, `model`, `adapter`, `prompt_tokens`, `completion_tokens`, `ttft_ms`,
/// `tpot_ms`, `latency_ms`, `finish_reason`, `ts`, `id`). Shared by the filter and the server, so
/// both log the same record.
public struct RecordInference: Sendable {
    public let model: LoadedModel
    public var settings: InferenceSettings
    public var adapterName: String?
    public var questionField = "question"
    /// Score this field's text as the completion instead of generating (`--score-completion`).
    public var completionField: String?

    public init(model: LoadedModel, settings: InferenceSettings, adapterName: String? = nil) {
        self.model = model
        self.settings = settings
        self.adapterName = adapterName
    }

    /// Runs one generation: `Generator.generate` by default; the server passes its scheduler,
    /// which steps the decode phases of concurrent requests together.
    public typealias Generate = @Sendable (GenerationRequest, ((TextPiece) -> Bool)?) throws -> GenerationResult

    /// Answers one record. `onText` receives the answer as it is generated.
    public func process(_ record: JSONObject, onText: ((String) -> Bool)? = nil) throws -> JSONObject {
        try process(record, generate: nil, onPiece: onText.map { onText in { onText($0.text) } })
    }

    /// The same, generating with `generate`, and handing `onPiece` each piece of the answer with
    /// its tokens' log-probabilities in the record's form (`Self.json`).
    public func process(_ record: JSONObject, generate: Generate?, onPiece: ((TextPiece) -> Bool)?) throws -> JSONObject {
        let s = try settings.overridden(by: record)
        let input = try PromptInput(record: record, questionField: questionField)
        let ids = try input.tokenIDs(for: model, system: s.system)
        if let field = completionField {
            return try score(record, promptIDs: ids, field: field, settings: s)
        }
        let request = GenerationRequest(promptIDs: ids, maxTokens: s.maxTokens, sampling: s.sampling, stop: s.stop,
                                        topLogprobs: s.topLogprobs, minTokens: s.minTokens, format: s.responseFormat?.schema)
        let result = try wrap {
            if let generate { return try generate(request, onPiece) }
            return try model.generator.generate(request, onPiece: onPiece)
        }
        var out = record
        out["answer"] = .string(result.text)
        annotate(&out, promptTokens: result.promptTokens, completionTokens: result.completionTokens)
        out["ttft_ms"] = .double(Self.ms(result.timeToFirstToken))
        out["tpot_ms"] = JSONValue(result.timePerOutputToken.map(Self.ms))
        out["latency_ms"] = .double(Self.ms(result.latency))
        out["finish_reason"] = .string(result.finishReason.rawValue)
        if s.sampling.temperature > 0 { out["seed"] = .int(Int64(bitPattern: result.seed)) }
        if let lps = result.logprobs { out["logprobs"] = .array(lps.map(Self.json)) }
        finish(&out)
        return out
    }

    private func score(_ record: JSONObject, promptIDs: [Int], field: String, settings s: InferenceSettings) throws -> JSONObject {
        guard let text = record[field]?.string else {
            throw RecordError("field '\(field)' (the completion to score) is missing or not a string")
        }
        let completion = model.tokenizer.encode(text, addBOS: false, parseSpecial: false)
        let started = DispatchTime.now().uptimeNanoseconds
        let scored = try wrap {
            try model.generator.scoreCompletion(promptIDs: promptIDs, completionIDs: completion,
                                                topLogprobs: s.topLogprobs ?? 0)
        }
        var out = record
        annotate(&out, promptTokens: scored.promptTokens, completionTokens: scored.tokens.count)
        out["completion_logprob"] = .double(Double(scored.sum))
        out["completion_logprob_mean"] = .double(Double(scored.mean))
        out["latency_ms"] = .double(Self.ms(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
        if s.topLogprobs != nil { out["logprobs"] = .array(scored.tokens.map(Self.json)) }
        finish(&out)
        return out
    }

    private func annotate(_ out: inout JSONObject, promptTokens: Int, completionTokens: Int) {
        out["model"] = .string(model.name)
        out["adapter"] = adapterName.map(JSONValue.string) ?? .null
        out["prompt_tokens"] = JSONValue(promptTokens)
        out["completion_tokens"] = JSONValue(completionTokens)
    }

    private func finish(_ out: inout JSONObject) {
        out["ts"] = .string(Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970).rfc3339)
        if out["id"] == nil || out["id"]!.isNull { out["id"] = .string(Self.newID()) }
    }

    /// Model errors of a record (context overflow, bad parameter) become record errors.
    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as GemmaError { throw RecordError(e.description) }
    }

    static func ms(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1e3 }

    /// A token's log-probability as the record's `logprobs` entries hold it.
    public static func json(_ t: TokenLogprob) -> JSONValue {
        .object(["id": JSONValue(t.id), "token": .string(t.text), "logprob": .double(Double(t.logprob)),
                 "top_logprobs": .array(t.top.map {
                     .object(["id": JSONValue($0.id), "token": .string($0.text), "logprob": .double(Double($0.logprob))])
                 })])
    }

    /// A fresh record id: 16 random hex digits after a prefix.
    public static func newID(prefix: String = "gen-") -> String {
        prefix + String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
