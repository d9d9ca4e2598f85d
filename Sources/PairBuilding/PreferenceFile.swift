import Records

/// One row of a preference dataset file (examples/banking/train.jsonl and the like).
public struct PreferenceRow: Sendable, Equatable {
    public var prompt: String
    public var chosen: String?
    public var rejected: String?
    public var topic: String?
    public var location: RecordLocation

    public init(prompt: String, chosen: String?, rejected: String?, topic: String? = nil, location: RecordLocation) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.topic = topic
        self.location = location
    }
}

/// Reads the side files of `orpo-pairs` (reference answers, evaluation prompts, the base dataset):
/// JSONL rows in either of TRL's forms, plain strings or chat messages.
///
/// These files steer what a model is trained on, so a bad line is fatal rather than skipped: an
/// evaluation file read only in part would let its other prompts leak into training unnoticed.
public enum PreferenceFile {
    /// The fields a side file must have on every row.
    public struct Requirements: Sendable {
        public var chosen: Bool
        public var rejected: Bool
        /// Accept `question` when a row has no `prompt` (judge records, traffic).
        public var questionFallback: Bool

        public init(chosen: Bool, rejected: Bool, questionFallback: Bool = false) {
            self.chosen = chosen
            self.rejected = rejected
            self.questionFallback = questionFallback
        }
    }

    /// All rows of the files at `paths`, in order.
    ///
    /// - Throws: `FatalError` naming the file, line and field of the first problem.
    public static func read(paths: [String], requiring requirements: Requirements) throws -> [PreferenceRow] {
        var rows: [PreferenceRow] = []
        try forEachRecord(paths: paths) { record, location in
            rows.append(try row(record, location: location, requirements))
        }
        return rows
    }

    /// Calls `body` with every record of the side files at `paths`, in order.
    ///
    /// - Throws: `FatalError` naming the file and line of the first unreadable file, malformed line
    ///   or record `body` refuses (with a `RecordError`).
    static func forEachRecord(paths: [String], _ body: (JSONObject, RecordLocation) throws -> Void) throws {
        for path in paths {
            for item in JSONLReader(paths: [path]) {
                switch item {
                case let .unreadable(source, reason):
                    throw FatalError("\(source): \(reason)")
                case let .malformed(_, reason, location):
                    throw FatalError("\(location): \(reason)")
                case let .record(record, location):
                    do {
                        try body(record, location)
                    } catch let error as RecordError {
                        throw FatalError("\(location): \(error)")
                    }
                }
            }
        }
    }

    static func row(_ record: JSONObject, location: RecordLocation, _ requirements: Requirements) throws -> PreferenceRow {
        let promptField = record["prompt"] == nil && requirements.questionFallback ? "question" : "prompt"
        guard let prompt = try text(record, promptField, role: "user") else {
            let expected = requirements.questionFallback ? "'prompt' or 'question'" : "'prompt'"
            throw RecordError("missing field \(expected)")
        }
        let chosen = try text(record, "chosen", role: "assistant")
        let rejected = try text(record, "rejected", role: "assistant")
        if requirements.chosen && chosen == nil { throw RecordError("missing field 'chosen'") }
        if requirements.rejected && rejected == nil { throw RecordError("missing field 'rejected'") }
        return PreferenceRow(prompt: prompt, chosen: chosen, rejected: rejected, topic: record["topic"]?.string,
                             location: location)
    }

    /// The text of `field`: a non-empty string, or in the messages form the content of the last
    /// message with `role` (the question is the last user turn, the answer the last assistant turn).
    static func text(_ record: JSONObject, _ field: String, role: String) throws -> String? {
        guard let value = record[field] else { return nil }
        switch value {
        case let .string(text):
            guard !text.isEmpty else { throw RecordError("field '\(field)' is empty") }
            return text
        case let .array(messages):
            for (index, message) in messages.enumerated().reversed() {
                guard let object = message.object, let messageRole = object["role"]?.string,
                      let content = object["content"]?.string
                else {
                    throw RecordError("field '\(field)[\(index)]' must be an object with string 'role' and 'content'")
                }
                if messageRole == role { return content }
            }
            throw RecordError("field '\(field)' has no message with role '\(role)'")
        default:
            throw RecordError("field '\(field)' must be a string or an array of messages, found \(value.kindName)")
        }
    }
}
