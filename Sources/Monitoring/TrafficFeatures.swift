import Records

/// What score-window takes from one input record: its event time and the values it aggregates.
///
/// Traffic records (gemma-infer) carry `ts`, `ttft_ms`, `tpot_ms`, `latency_ms`, `prompt_tokens`,
/// `completion_tokens` and `answer`; the judge adds one object per metric. Any top-level object with
/// a `status` string and a `score` member (a number, or null when the judge failed) is a judge metric.
/// A feedback record (`"type": "feedback"`, as `gemma-infer serve` logs it) counts as the metric
/// `user_feedback` and not as traffic: its score is the rating normalised to [0, 1] (`UserRating`:
/// thumbs up 1 and down 0, 1-5 as (score − 1) / 4, 0-1 as is) and it passes as the rating's scale
/// says (up; 4 or more of 5; 0.5 or more), whatever the pass threshold. A rejected request
/// (`"type": "rejected"`, refused by the server with a 4xx/5xx) counts in the window's `rejected`
/// and not as traffic. Missing or null fields are simply absent; a field of the wrong type is an
/// error naming the field, so a broken upstream tool is noticed.
public struct TrafficFeatures {
    public enum JudgeOutcome: Equatable {
        /// Status "ok" with a numeric score; `passed` from the judge's `pass` field when present.
        case scored(Double, passed: Bool?)
        /// Status "error" or "parse_error": the judge could not score the answer.
        case failed
        /// Status "not_judged" (or another status without a score): left out of every rate.
        case notJudged
    }

    public static let latencyFields = ["ttft_ms", "tpot_ms", "latency_ms"]
    public static let tokenFields = ["prompt_tokens", "completion_tokens"]

    public var time: Double
    public var isFeedback = false
    public var isRejected = false
    public var judgements: [(name: String, outcome: JudgeOutcome)] = []
    /// ttft_ms, tpot_ms, latency_ms, in the order of `latencyFields`.
    public var latencies: [Double?] = [nil, nil, nil]
    /// prompt_tokens, completion_tokens.
    public var tokens: [Double?] = [nil, nil]
    public var answerLength: Double? = nil

    public init(record: JSONObject) throws {
        guard let tsValue = record["ts"], !tsValue.isNull else { throw RecordError("missing field 'ts' (an RFC 3339 timestamp)") }
        guard let tsText = tsValue.string else { throw RecordError("field 'ts' must be an RFC 3339 string, found \(tsValue.kindName)") }
        do {
            time = try Timestamp(rfc3339: tsText).secondsSinceEpoch
        } catch {
            throw RecordError("field 'ts': \(error)")
        }
        switch record["type"]?.string {
        case "feedback":
            isFeedback = true
            let (score, passed) = try UserRating.outcome(ofFeedback: record)
            judgements.append((name: "user_feedback", outcome: .scored(score, passed: passed)))
            return
        case "rejected":
            isRejected = true
            return
        default:
            break
        }
        for (i, field) in Self.latencyFields.enumerated() { latencies[i] = try Self.number(record, field) }
        for (i, field) in Self.tokenFields.enumerated() { tokens[i] = try Self.number(record, field) }
        if let answer = record["answer"], case var .string(text) = answer {
            // Unicode scalars = UTF-8 bytes that are not continuation bytes; counting them on the
            // bytes is several times faster than walking the scalar view.
            answerLength = Double(text.withUTF8 { bytes in bytes.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) } })
        }
        let keys = record.keys, values = record.values
        for i in keys.indices {
            guard case let .object(member) = values[i], let status = member["status"]?.string,
                  let score = member["score"] else { continue }
            switch status {
            case "ok":
                guard let value = score.double else {
                    throw RecordError("judge metric '\(keys[i])' has status ok but its score is \(score.kindName), not a number")
                }
                guard value.isFinite else {
                    throw RecordError("judge metric '\(keys[i])' has status ok but its score \(score) is beyond the range of a double")
                }
                judgements.append((name: keys[i], outcome: .scored(value, passed: member["pass"]?.bool)))
            case "error", "parse_error":
                judgements.append((name: keys[i], outcome: .failed))
            default:
                judgements.append((name: keys[i], outcome: .notJudged))
            }
        }
    }

    private static func number(_ record: JSONObject, _ field: String) throws -> Double? {
        guard let value = record[field] else { return nil }
        switch value {
        case .null: return nil
        case let .number(n):
            guard n.double.isFinite else {
                throw RecordError("field '\(field)' is \(n), beyond the range of a double")
            }
            return n.double
        default: throw RecordError("field '\(field)' must be a number, found \(value.kindName)")
        }
    }
}
