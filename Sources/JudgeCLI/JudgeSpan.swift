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
        var span = SpanRecord(name: "evaluate \(metric)", kind: .internal, start: start, end: end)
        var evaluation: [(String, SpanAttributeValue)] = [("gen_ai.evaluation.name", .string(metric))]
        if let score = verdict.score { evaluation.append(("gen_ai.evaluation.score.value", .double(score))) }
        if let pass = verdict.pass { evaluation.append(("gen_ai.evaluation.score.label", .string(pass ? "pass" : "fail"))) }
        if !verdict.explanation.isEmpty { evaluation.append(("gen_ai.evaluation.explanation", .string(verdict.explanation))) }
        if let id = record.value(atPath: idField)?.string { evaluation.append(("gen_ai.response.id", .string(id))) }
        var eventAttributes = SpanAttributes()
        for (key, value) in evaluation {
            value.set(key, in: &span.attributes)
            value.set(key, in: &eventAttributes)
        }
        span.events.append(.init(name: "gen_ai.evaluation.result", time: end, attributes: eventAttributes))
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

    /// The served request's span, from the record's `trace_id` and `span_id` or its `traceparent`.
    static func parent(of record: JSONObject) -> String? {
        if let trace = record["trace_id"]?.string, let spanID = record["span_id"]?.string {
            let ids = SpanIDs(traceID: trace.lowercased(), spanID: spanID.lowercased())
            return ids.isValid ? ids.traceparent : nil
        }
        if let ids = SpanIDs(traceparent: record["traceparent"]?.string), ids.isValid { return ids.traceparent }
        return nil
    }
}

/// An attribute value set on both the span and its event.
private enum SpanAttributeValue {
    case string(String)
    case double(Double)

    func set(_ key: String, in attributes: inout SpanAttributes) {
        switch self {
        case .string(let s): attributes[key] = s
        case .double(let d): attributes[key] = d
        }
    }
}
