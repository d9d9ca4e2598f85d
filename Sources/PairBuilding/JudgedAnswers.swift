import Policy
import Records

/// Judged answers to the traffic's questions other than the model's own: the reference answer of a
/// neighbouring question (`ReferenceAnswers.nearest`) and answers the current model sampled, each
/// scored by the judge for the traffic's question (`orpo-pairs --judged-answers`; scripts/retrain
/// makes them from the records `--to-judge` lists).
///
/// A verdict passes when its status is ok and, where the judge wrote its correctness node
/// (`<metric>.nodes.correct = {"p", "decision"}`), that node's decision is 1; where it did not, when
/// the verdict's `pass` is true. Answers are ranked by the node's `p`, else by the verdict's `score`.
public struct JudgedAnswers: Sendable {
    /// One judged answer.
    public struct Verdict: Sendable, Equatable {
        public var answer: String
        public var passes: Bool
        /// What ranks passing answers: the correctness node's probability, else the score.
        public var strength: Double

        public init(answer: String, passes: Bool, strength: Double) {
            self.answer = answer
            self.passes = passes
            self.strength = strength
        }
    }

    /// By normalised question, in file order.
    private var byQuestion: [String: [Verdict]] = [:]

    public init() {}

    public var count: Int { byQuestion.values.reduce(0) { $0 + $1.count } }

    public mutating func add(question: String, _ verdict: Verdict) {
        byQuestion[TextNormalization.normalize(question), default: []].append(verdict)
    }

    /// The verdict on `answer` to `question`, if it was judged (the first, if twice).
    public func verdict(question: String, answer: String) -> Verdict? {
        byQuestion[TextNormalization.normalize(question)]?.first { $0.answer == answer }
    }

    /// The strongest passing answer to `question` that is none of `excluded` (the first on a tie);
    /// nil when no answer passed.
    public func best(question: String, excluding excluded: Set<String>) -> Verdict? {
        var best: Verdict?
        for verdict in byQuestion[TextNormalization.normalize(question)] ?? []
        where verdict.passes && !excluded.contains(verdict.answer) && verdict.strength > (best?.strength ?? -.infinity) {
            best = verdict
        }
        return best
    }

    /// Reads judged records (`question`, `answer` and the metric's verdict object).
    ///
    /// - Throws: `FatalError` naming the file, line and field of the first problem: these answers
    ///   become training data, so a file read in part is refused.
    public init(paths: [String], metric: String, questionField: String = "question", answerField: String = "answer") throws {
        var answers = JudgedAnswers()
        try PreferenceFile.forEachRecord(paths: paths) { record, _ in
            let (question, verdict) = try Self.read(record, metric: metric, questionField: questionField, answerField: answerField)
            answers.add(question: question, verdict)
        }
        self = answers
    }

    static func read(_ record: JSONObject, metric: String, questionField: String, answerField: String) throws -> (String, Verdict) {
        func string(_ field: String) throws -> String {
            guard let value = record[field] else { throw RecordError("missing field '\(field)'") }
            guard let text = value.string else { throw RecordError("field '\(field)' must be a string, found \(value.kindName)") }
            return text
        }
        let question = try string(questionField), answer = try string(answerField)
        guard let verdictValue = record.value(atPath: metric) else {
            throw RecordError("missing field '\(metric)' (the judge's verdict)")
        }
        guard let verdict = verdictValue.object else {
            throw RecordError("field '\(metric)' must be an object, found \(verdictValue.kindName)")
        }
        guard verdict["status"]?.string == JudgedRecord.okStatus else {
            return (question, Verdict(answer: answer, passes: false, strength: 0))
        }
        if let node = verdict["nodes"]?["correct"] {
            guard let object = node.object, let decision = object["decision"]?.double, decision == 0 || decision == 1 else {
                throw RecordError("field '\(metric).nodes.correct' must be an object with 'decision' 0 or 1")
            }
            guard let p = object["p"]?.double else {
                throw RecordError("field '\(metric).nodes.correct.p' is missing or not a number")
            }
            return (question, Verdict(answer: answer, passes: decision == 1, strength: p))
        }
        guard let pass = verdict["pass"]?.bool else {
            throw RecordError("field '\(metric).pass' is missing or not a boolean")
        }
        return (question, Verdict(answer: answer, passes: pass, strength: verdict["score"]?.double ?? (pass ? 1 : 0)))
    }
}
