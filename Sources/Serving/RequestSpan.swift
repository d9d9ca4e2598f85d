import Foundation
import Records
import Telemetry
import Tracing

/// The OpenTelemetry span of one answered request, after the GenAI semantic conventions: named
/// "{operation} {model}", kind server, from the moment the body was read (its wait for a slot
/// included) to the moment it was logged.
enum RequestSpan {
    static func make(_ request: CompletionRequest, record: JSONObject, end: Date) -> SpanRecord {
        let operation = request.kind == .chat ? "chat" : "text_completion"
        let model = record["model"]?.string ?? "gemma"
        var span = SpanRecord(name: "\(operation) \(model)", kind: .server, start: request.received, end: end)
        span.attributes["gen_ai.operation.name"] = operation
        span.attributes["gen_ai.provider.name"] = "gemma-infer"
        span.attributes["gen_ai.request.model"] = model
        span.attributes["gen_ai.response.model"] = model
        span.attributes["gen_ai.response.id"] = request.id
        if let reason = record["finish_reason"]?.string { span.attributes["gen_ai.response.finish_reasons"] = [reason] }
        if let n = record["prompt_tokens"]?.int { span.attributes["gen_ai.usage.input_tokens"] = n }
        if let n = record["completion_tokens"]?.int { span.attributes["gen_ai.usage.output_tokens"] = n }
        if let n = record["max_tokens"]?.int { span.attributes["gen_ai.request.max_tokens"] = n }
        if let t = record["temperature"]?.double { span.attributes["gen_ai.request.temperature"] = t }
        if let p = record["top_p"]?.double { span.attributes["gen_ai.request.top_p"] = p }
        if let s = record["seed"]?.int { span.attributes["gen_ai.request.seed"] = s }
        // The GenAI conventions name these as server metrics; on the span they are seconds too.
        if let ms = record["ttft_ms"]?.double { span.attributes["gen_ai.server.time_to_first_token"] = ms / 1000 }
        if let ms = record["tpot_ms"]?.double { span.attributes["gen_ai.server.time_per_output_token"] = ms / 1000 }
        if let adapter = record["adapter"]?.string { span.attributes["feedbackloop.adapter"] = adapter }
        if record["cancelled"]?.bool == true { span.attributes["feedbackloop.cancelled"] = true }
        return span
    }
}
