import Policy

/// How a question was found among the reference answers.
public enum ReferenceMatch: String, Sendable {
    /// The very same text.
    case exact
    /// Equal after `TextNormalization.normalize`.
    case normalized
}

/// A reference answer to a different question that shares most of its words (`QuestionOverlap`).
public struct ReferenceNeighbour: Sendable, Equatable {
    /// The reference row's question.
    public var prompt: String
    public var answer: String
    /// `QuestionOverlap.of` the two questions, from 0 to 1.
    public var overlap: Double
}

/// The reference answers to banking questions (a file of `prompt`/`chosen` rows), looked up by the
/// question exactly first and then by its normalised form; `nearest` finds the reference question
/// that shares most words with a new one.
///
/// The exact and normalised lookups are the question's own answer. A neighbour's answer is another
/// question's: `PolicyAnswers` uses it only above an overlap threshold and only once the judge has
/// passed it for the new question.
public struct ReferenceAnswers: Sendable {
    private var exact: [String: String] = [:]
    private var normalized: [String: String] = [:]
    /// Rows a neighbour may come from, in file order: (prompt, answer, content words).
    private var neighbours: [(prompt: String, answer: String, words: Set<String>)] = []

    public init() {}

    /// Rows with a `chosen`; when two rows share a prompt the first one wins. A neighbour is looked
    /// for only among rows whose topic `isNeighbourTopic` accepts (nil: a row without a topic); by
    /// default every row.
    public init(rows: [PreferenceRow], isNeighbourTopic: (String?) -> Bool = { _ in true }) {
        for row in rows {
            guard let chosen = row.chosen else { continue }
            add(prompt: row.prompt, answer: chosen, neighbour: isNeighbourTopic(row.topic))
        }
    }

    public mutating func add(prompt: String, answer: String, neighbour: Bool = true) {
        if exact[prompt] == nil { exact[prompt] = answer }
        let key = TextNormalization.normalize(prompt)
        if normalized[key] == nil {
            normalized[key] = answer
            if neighbour { neighbours.append((prompt, answer, QuestionOverlap.contentWords(prompt))) }
        }
    }

    public var count: Int { exact.count }

    /// The reference answer to `question`, and how it matched.
    public func answer(to question: String) -> (answer: String, match: ReferenceMatch)? {
        if let answer = exact[question] { return (answer, .exact) }
        if let answer = normalized[TextNormalization.normalize(question)] { return (answer, .normalized) }
        return nil
    }

    /// The reference question with the highest overlap with `question` (the first in file order on a
    /// tie), if that overlap is at least `minimumOverlap`.
    public func nearest(to question: String, minimumOverlap: Double) -> ReferenceNeighbour? {
        let words = QuestionOverlap.contentWords(question)
        var best: ReferenceNeighbour?
        for row in neighbours {
            let overlap = QuestionOverlap.of(words, row.words)
            if overlap >= minimumOverlap, overlap > (best?.overlap ?? -1) {
                best = ReferenceNeighbour(prompt: row.prompt, answer: row.answer, overlap: overlap)
            }
        }
        return best
    }
}

/// How much two questions share: the Jaccard index of their content words, |A ∩ B| / |A ∪ B|, where
/// a question's content words are the words of its normalised text (`TextNormalization`) without
/// the function words below. "I forgot my online banking password" and "How do I reset my online
/// banking password?" share {online, banking, password} of {forgot, reset, online, banking,
/// password}: 0.6.
///
/// The function words are left out because questions are mostly made of them: with them, "What is
/// accrued interest?" and "What is compound interest?" overlap 0.6; without, 0.33.
public enum QuestionOverlap {
    /// Question words, pronouns, articles, auxiliaries and prepositions: what "how do I ..." and
    /// "what is a ..." questions share whatever they ask.
    public static let functionWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "do", "does", "did", "i", "my", "me", "we",
        "our", "you", "your", "it", "its", "of", "to", "in", "on", "for", "at", "by", "with", "and", "or", "what",
        "whats", "how", "can", "could", "should", "would", "will", "if", "when", "why", "which", "who", "this",
        "that", "there", "s", "t", "don", "have", "has", "get",
    ]

    /// The distinct normalised words of `text` that are not function words.
    public static func contentWords(_ text: String) -> Set<String> {
        Set(TextNormalization.normalize(text).split(separator: " ").map(String.init).filter { !functionWords.contains($0) })
    }

    /// The Jaccard index of two word sets; 0 when both are empty.
    public static func of(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 0 : Double(a.intersection(b).count) / Double(union)
    }

    /// The overlap of two questions.
    public static func of(_ a: String, _ b: String) -> Double { of(contentWords(a), contentWords(b)) }
}
