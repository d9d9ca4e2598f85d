/// A user's rating of an answer, on one of three scales, and what it means for the monitors: a
/// score normalised to [0, 1] and a pass/fail. One reading for the server (which logs it), score-window
/// (which windows it), judge (which can calibrate against it) and orpo-pairs (which learns from it).
///
/// | scale | given as | normalised | passes |
/// |---|---|---|---|
/// | `thumbs` | `rating`: "up"/"down" or true/false | up 1, down 0 | up |
/// | `1-5` | `score`: an integer 1…5 | (score − 1) / 4 | score ≥ 4 |
/// | `0-1` | `score`: a number in [0, 1] | score | score ≥ 0.5 |
public struct UserRating: Equatable, Sendable {
    public enum Scale: String, CaseIterable, Sendable {
        case thumbs
        case fivePoint = "1-5"
        case unit = "0-1"

        public static let names = allCases.map(\.rawValue).joined(separator: ", ")
    }

    public let scale: Scale
    /// The value as given: 1 (up) or 0 (down) for thumbs, the score otherwise.
    public let value: Double

    public var normalized: Double {
        switch scale {
        case .thumbs, .unit: return value
        case .fivePoint: return (value - 1) / 4
        }
    }

    public var passed: Bool {
        switch scale {
        case .thumbs: return value == 1
        case .fivePoint: return value >= 4
        case .unit: return value >= 0.5
        }
    }

    /// "up"/"down" for thumbs, the score's text otherwise (a label for counters).
    public var label: String {
        switch scale {
        case .thumbs: return value == 1 ? "up" : "down"
        case .fivePoint: return String(Int(value))
        case .unit: return String(value)
        }
    }

    /// Reads a rating as a client gives it: `rating` (thumbs) or `score` with `scale` (or the
    /// default scale when the request names none). Errors name the field.
    public init(rating: JSONValue?, score: JSONValue?, scale: JSONValue?, defaultScale: Scale) throws {
        let rating = rating.flatMap { $0.isNull ? nil : $0 }
        let score = score.flatMap { $0.isNull ? nil : $0 }
        var named: Scale?
        if let s = scale, !s.isNull {
            guard let text = s.string, let parsed = Scale(rawValue: text) else {
                throw RatingError(field: "scale", "'scale' must be one of \(Scale.names), got \(s)")
            }
            named = parsed
        }
        switch (rating, score) {
        case (nil, nil):
            throw RatingError(field: "rating", "give either 'rating' (\"up\" or \"down\") or 'score' (on the scale named by 'scale': \(Scale.names))")
        case (.some, .some):
            throw RatingError(field: "score", "give either 'rating' or 'score', not both")
        case (let v?, nil):
            if let named, named != .thumbs {
                throw RatingError(field: "rating", "'rating' is a thumbs rating; give 'score' for the \(named.rawValue) scale")
            }
            switch v {
            case .string(let s) where s.lowercased() == "up": value = 1
            case .string(let s) where s.lowercased() == "down": value = 0
            case .bool(let b): value = b ? 1 : 0
            default: throw RatingError(field: "rating", "'rating' must be \"up\" or \"down\" (or true/false), got \(v)")
            }
            self.scale = .thumbs
        case (nil, let v?):
            let scale = named ?? defaultScale
            guard let d = v.double, d.isFinite else {
                throw RatingError(field: "score", "'score' must be a number, got \(v.kindName)")
            }
            switch scale {
            case .thumbs:
                guard d == 0 || d == 1 else { throw RatingError(field: "score", "'score' on the thumbs scale must be 1 (up) or 0 (down), got \(v)") }
            case .fivePoint:
                guard d == d.rounded(), (1...5).contains(d) else {
                    throw RatingError(field: "score", "'score' on the 1-5 scale must be an integer from 1 to 5, got \(v)")
                }
            case .unit:
                guard (0...1).contains(d) else { throw RatingError(field: "score", "'score' on the 0-1 scale must be between 0 and 1, got \(v)") }
            }
            self.scale = scale
            value = d
        }
    }

    /// Reads a logged feedback record: `scale` with `rating` or `score` (a `rating` alone is thumbs).
    /// Nil for a record with neither `scale` nor `rating` (a bare numeric `score`, as feedback was
    /// logged before scales): its reader takes the score as it is.
    public init?(feedbackRecord r: JSONObject) throws {
        guard r["scale"] != nil || r["rating"] != nil else { return nil }
        try self.init(rating: r["rating"], score: r["score"], scale: r["scale"], defaultScale: .fivePoint)
    }
}

extension UserRating {
    /// What a logged feedback record says, for the tools that read feedback: the rating's score on
    /// [0, 1] and its pass; for a record with neither `scale` nor `rating` (as feedback was logged
    /// before scales), its numeric `score` as it is and no pass, which the reader's threshold decides.
    public static func outcome(ofFeedback record: JSONObject) throws -> (score: Double, passed: Bool?) {
        let rating: UserRating?
        do { rating = try UserRating(feedbackRecord: record) } catch let e as RatingError {
            throw RecordError("feedback record: \(e.description)")
        }
        if let rating { return (rating.normalized, rating.passed) }
        guard let score = record["score"]?.double, score.isFinite else {
            throw RecordError("feedback record without 'scale' and 'rating' needs a numeric 'score'")
        }
        return (score, nil)
    }
}

public struct RatingError: Error, CustomStringConvertible {
    public let field: String
    public let description: String
    init(field: String, _ description: String) {
        self.field = field
        self.description = description
    }
}
