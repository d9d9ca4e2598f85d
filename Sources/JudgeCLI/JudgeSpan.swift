import Foundation
import Judging
import Records
import Telemetry
import Tracing

/// The OpenTelemetry span of one judged record: "evaluate {metric}", with the GenAI conventions'
/// evaluation attributes (also as a `gen_ai.evaluation.result` event), the judge model's usage and
/// each node's probability and decision. When the record came from `gemma-infer serve` with tracing
/// on, it carries its span's `trace_id` and `span_id` (or a `traceparent`), and the judge's span
/// becomes that span's child: the score attaches to its generation's trace.
enum JudgeSpan {
    static func make(record: JSONObject, verdict: Verdict, metric: String, idField: String,
                     start: Date, end: Date) -> (span: SpanRecord, parent: String?) {
        var evaluation = SpanAttributes()
        evaluation["gen_ai.evaluation.name"] = metric
        if let score = verdict.score { evaluation["gen_ai.evaluation.score.value"] = score }
        if let pass = verdict.pass { evaluation["gen_ai.evaluation.score.label"] = pass ? "pass" : "fail" }
        if !verdict.explanation.isEmpty { evaluation["gen_ai.evaluation.explanation"] = verdict.explanation }
        if let id = record.value(atPath: idField)?.string { evaluation["gen_ai.response.id"] = id }
        var span = SpanRecord(name: "evaluate \(metric)", kind: .internal, start: start, end: end)
        span.attributes = evaluation
        span.events.append(.init(name: "gen_ai.evaluation.result", time: end, attributes: evaluation))
        span.attributes["gen_ai.request.model"] = verdict.model
        span.attributes["feedbackloop.judge.status"] = verdict.status.rawValue
        if verdict.promptTokens > 0 { span.attributes["gen_ai.usage.input_tokens"] = verdict.promptTokens }
        if verdict.completionTokens > 0 { span.attributes["gen_ai.usage.output_tokens"] = verdict.completionTokens }
        for node in verdict.nodes ?? [] {
            if let p = node.probability { span.attributes["feedbackloop.judge.node.\(node.name).probability"] = p }
            span.attributes["feedbackloop.judge.node.\(node.name).decision"] = node.decision
        }
        if verdict.status.isFailure { span.errorMessage = "\(verdict.status.rawValue): \(verdict.reason ?? "")" }
        return (span, parent(of: record))
    }

    /// The served request's span, from the record's `trace_id` and `span_id` or its `traceparent`
    /// (`Telemetry.record` ignores one that is malformed).
    static func parent(of record: JSONObject) -> String? {
        if let trace = record["trace_id"]?.string, let spanID = record["span_id"]?.string {
            return SpanIDs(traceID: trace.lowercased(), spanID: spanID.lowercased()).traceparent
        }
        return record["traceparent"]?.string
    }
}
