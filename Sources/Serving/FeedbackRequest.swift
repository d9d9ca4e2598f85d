import Foundation
import Inference
import Records

/// A user's rating of an answer this server gave (`POST /v1/feedback`):
///
///     {"id": "chatcmpl-…", "rating": "up"|"down"}                 thumbs
///     {"id": "chatcmpl-…", "score": 4, "scale": "1-5"}             1-5 or 0-1 (`scale` defaults to --feedback-scale)
///     … "comment": "…", "correction": "the answer it should have been"
///
/// The id must name an answer in the server's traffic log (this run or an earlier one); another
/// id is a 404. The logged record joins the rating to the answer it rates, so that the tools
/// downstream need nothing else:
///
///     {"type": "feedback", "id": <answer id>, "feedback_id", "scale", "rating"|"score",
///      "user_score" (0…1), "user_pass", "comment", "correction",
///      "question", "answer", "model", "adapter", "metadata", "answer_ts", "ts"}
///
/// `ts` is the feedback's own time (score-window windows it there); `answer_ts` the answer's.
struct FeedbackRequest {
    let record: JSONObject
    let rating: UserRating

    init(body: [UInt8], defaultScale: UserRating.Scale, log: TrafficLog) throws {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(bytes: body) } catch {
            throw APIError.badRequest("The request body is not valid JSON: \(error)")
        }
        guard let b = parsed.object else {
            throw APIError.badRequest("The request body must be a JSON object, got \(parsed.kindName).")
        }
        guard let id = b["id"]?.string, !id.isEmpty else {
            throw APIError.badRequest("'id' (the id of the answer rated) is required and must be a non-empty string.", param: "id")
        }
        do {
            rating = try UserRating(rating: b["rating"], score: b["score"], scale: b["scale"], defaultScale: defaultScale)
        } catch let e as RatingError {
            throw APIError.badRequest(e.description.prefix(1).uppercased() + e.description.dropFirst() + ".", param: e.field)
        }
        var r: JSONObject = ["type": "feedback", "id": .string(id),
                             "feedback_id": .string(RecordInference.newID(prefix: "fb-")),
                             "scale": .string(rating.scale.rawValue)]
        if rating.scale == .thumbs {
            r["rating"] = .string(rating.label)
        } else {
            r["score"] = b["score"]
        }
        r["user_score"] = .double(rating.normalized)
        r["user_pass"] = .bool(rating.passed)
        for field in ["comment", "correction"] {
            if let c = b[field], !c.isNull {
                guard c.string != nil else {
                    throw APIError.badRequest("'\(field)' must be a string, got \(c.kindName).", param: field)
                }
                r[field] = c
            }
        }
        guard let answered = log.answer(id: id) else {
            throw APIError(.notFound, "No answer with id '\(id)' in this server's traffic log (\(log.path)).",
                           type: "invalid_request_error", param: "id", code: "unknown_id")
        }
        for field in ["question", "prompt", "messages", "answer", "model", "adapter", "metadata", "user"] {
            if let v = answered[field], !v.isNull { r[field] = v }
        }
        if let ts = answered["ts"] { r["answer_ts"] = ts }
        r["ts"] = .string(Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970).rfc3339)
        record = r
    }
}
