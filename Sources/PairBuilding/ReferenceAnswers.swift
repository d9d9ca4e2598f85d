import Policy

/// How a question was found among the reference answers.
public enum ReferenceMatch: String, Sendable {
    /// The very same text.
    case exact
    /// Equal after `TextNormalization.normalize`.
    case normalized
}

/// The reference answers to banking questions (a file of `prompt`/`chosen` rows), looked up by the
/// question exactly first and then by its normalised form.
///
/// No similarity search beyond normalisation: a banking question without a reference answer is
/// reported, never paired with the answer to a different question.
public struct ReferenceAnswers: Sendable {
    private var exact: [String: String] = [:]
    private var normalized: [String: String] = [:]

    public init() {}

    /// Rows with a `chosen`; when two rows share a prompt the first one wins.
    public init(rows: [PreferenceRow]) {
        for row in rows {
            guard let chosen = row.chosen else { continue }
            add(prompt: row.prompt, answer: chosen)
        }
    }

    public mutating func add(prompt: String, answer: String) {
        if exact[prompt] == nil { exact[prompt] = answer }
        let key = TextNormalization.normalize(prompt)
        if normalized[key] == nil { normalized[key] = answer }
    }

    public var count: Int { exact.count }

    /// The reference answer to `question`, and how it matched.
    public func answer(to question: String) -> (answer: String, match: ReferenceMatch)? {
        if let answer = exact[question] { return (answer, .exact) }
        if let answer = normalized[TextNormalization.normalize(question)] { return (answer, .normalized) }
        return nil
    }
}
