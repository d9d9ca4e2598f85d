/// The ways of declining that a policy counts as a refusal, as its file lists them.
public struct RefusalWordings: Sendable, Equatable {
    /// The refusal the deployment wants, word for word: what a model is taught to say to an
    /// out-of-scope question (orpo-pairs' `chosen`). Always accepted as a refusal.
    public var text: String
    /// Word sequences ("not allowed to talk on this subject"): an answer whose normalised text
    /// contains one, normalised, refuses.
    public var phrases: [String]
    /// Regular expressions (Swift `Regex` syntax, which is Perl's for everything a policy needs),
    /// searched for in the normalised answer: lowercase words separated by single spaces, no
    /// punctuation, so `\bnot (allowed|permitted) to (talk|speak) about\b` and not `Not allowed,`.
    public var patterns: [String]

    public init(text: String, phrases: [String], patterns: [String] = []) {
        self.text = text
        self.phrases = phrases
        self.patterns = patterns
    }
}

/// Decides whether an answer refuses, by the wordings of a policy. Every tool and script that needs
/// to know asks this type (through the gate, `loop-eval figures`, orpo-pairs' policy), so a
/// refusal is the same thing everywhere.
///
/// The answer is normalised (`TextNormalization`: lowercase, every run of characters that are not
/// letters or digits one space), so case, punctuation, line breaks and spacing never matter:
/// "I am NOT allowed to talk on this\nsubject!" contains the phrase "not allowed to talk on this
/// subject". A phrase is found as a substring of the normalised answer, not only on word boundaries:
/// "cannot allowed to talk on this subjects" still declines, and this is how the loop found
/// refusals before the policy was a file (the lowercased answer containing the bank's clause), so
/// the same answers are refusals as before. The policy's own `text`, normalised, counts as one
/// more phrase.
///
/// Where in the answer the wording stands does not matter, and what follows it is not looked at.
/// That makes the known hard case, an answer that declines and then answers anyway ("I am not
/// allowed to talk on this subject. That said, Paris is the capital of France."), a refusal here:
/// the detector finds that the model declined, not that it kept to its word. The gate therefore
/// passes such an answer to an out-of-scope question (as the loop's gate did before the policy was
/// a file), and only the judge, whose verdict the report shows beside the rule, can fail it. An
/// answer that merely opens like the refusal ("As a banking agent, you can ...") contains no
/// declining wording and is no refusal.
public struct RefusalDetector: @unchecked Sendable {
    // @unchecked: `Regex` is an immutable value type the standard library has not yet marked
    // Sendable; nothing here is ever mutated after `init`.

    /// A wording the policy lists that cannot be used, with where it sits in the `refusal` object
    /// (`phrases[2]`, `patterns[0]`).
    public struct InvalidWording: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// What made an answer a refusal.
    public struct Match: Sendable, Equatable {
        /// The policy's wording as written in the file.
        public var wording: String
        /// `text`, `phrases[i]` or `patterns[i]`.
        public var field: String
    }

    public let wordings: RefusalWordings
    /// Each phrase (the text first), normalised.
    private let phrases: [(field: String, wording: String, normalized: String)]
    private let patterns: [(field: String, wording: String, regex: Regex<AnyRegexOutput>)]

    /// Checks and compiles the wordings: a phrase with no letters or digits, a pattern that does not
    /// compile or that matches an empty answer (it would call every answer a refusal) is refused.
    public init(_ wordings: RefusalWordings) throws {
        self.wordings = wordings
        var phrases: [(String, String, String)] = []
        let text = TextNormalization.normalize(wordings.text)
        guard !text.isEmpty else { throw InvalidWording(field: "text", message: "has no letters or digits") }
        phrases.append(("text", wordings.text, text))
        for (index, phrase) in wordings.phrases.enumerated() {
            let normalized = TextNormalization.normalize(phrase)
            guard !normalized.isEmpty else {
                throw InvalidWording(field: "phrases[\(index)]", message: "'\(phrase)' has no letters or digits")
            }
            phrases.append(("phrases[\(index)]", phrase, normalized))
        }
        var patterns: [(String, String, Regex<AnyRegexOutput>)] = []
        for (index, pattern) in wordings.patterns.enumerated() {
            let field = "patterns[\(index)]"
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                throw InvalidWording(field: field, message: "'\(pattern)' is not a regular expression: \(error)")
            }
            if (try? regex.firstMatch(in: "")) != nil {
                throw InvalidWording(field: field, message: "'\(pattern)' matches an empty answer, so every answer would be a refusal")
            }
            patterns.append((field, pattern, regex))
        }
        self.phrases = phrases
        self.patterns = patterns
    }

    /// The first wording found in `answer` (phrases before patterns), or nil when it does not refuse.
    public func match(in answer: String) -> Match? {
        let normalized = TextNormalization.normalize(answer)
        for phrase in phrases where normalized.contains(phrase.normalized) {
            return Match(wording: phrase.wording, field: phrase.field)
        }
        for pattern in patterns where (try? pattern.regex.firstMatch(in: normalized)) != nil {
            return Match(wording: pattern.wording, field: pattern.field)
        }
        return nil
    }

    public func isRefusal(_ answer: String) -> Bool { match(in: answer) != nil }
}
