import Policy
import Records

/// Turns judged traffic records into preference pairs one at a time, then mixes in a base dataset and
/// shuffles.
///
/// For each record, in this order: a verdict whose status is not ok is skipped (no score to trust); a
/// record the judge passed is skipped (nothing to correct); a question found in the evaluation set is
/// refused (training on it would inflate the evaluation); a question that already became a pair is a
/// duplicate; otherwise the chosen answer is asked for, and the model's own answer is `rejected`.
/// A question counts as taken only once it became a pair, so a duplicate of a record that failed
/// (no reference, teacher error) still gets its chance.
public final class PairBuilder {
    public let settings: PairBuildingSettings
    public let chosenSource: ChosenAnswerSource
    /// Normalised prompts of the evaluation set.
    public let evaluationPrompts: Set<String>
    public private(set) var pairs: [PreferencePair] = []
    public private(set) var summary = PairSummary()
    /// The records that ended `noReference`, in input order: the questions a neighbour's or sampled
    /// answer, once judged, could still give a pair (`orpo-pairs --to-judge`).
    public private(set) var unanswered: [JudgedRecord] = []
    private var taken: Set<String> = []

    public init(settings: PairBuildingSettings, chosenSource: ChosenAnswerSource, evaluationPrompts: Set<String> = []) {
        self.settings = settings
        self.chosenSource = chosenSource
        self.evaluationPrompts = evaluationPrompts
    }

    /// The normalised prompts of evaluation rows, for `evaluationPrompts`.
    public static func normalizedPrompts(of rows: [PreferenceRow]) -> Set<String> {
        Set(rows.map { TextNormalization.normalize($0.prompt) })
    }

    /// Processes one record and returns (and counts) its outcome.
    @discardableResult
    public func add(_ record: JSONObject, at location: RecordLocation) -> RecordOutcome {
        let outcome: RecordOutcome
        do {
            if record["type"]?.string == "rejected" {
                outcome = .notAnAnswer
            } else if record["type"]?.string == "feedback" {
                let (judged, correction) = try JudgedRecord.feedback(record, location: location, settings: settings)
                // The user approved: nothing to correct. Otherwise the rated answer is rejected and
                // the user's correction, when given, chosen.
                outcome = try isSelected(judged)
                    ? pair(judged, chosen: correction.map { ChosenAnswer(text: $0, origin: .userCorrection) }, source: .feedback)
                    : .passedThreshold
            } else {
                let judged = try JudgedRecord(record: record, location: location, settings: settings)
                outcome = decide(judged)
            }
        } catch {
            outcome = .malformed("\(error)")
        }
        summary.count(outcome)
        return outcome
    }

    /// Counts a line that could not be read as a record.
    public func addMalformed(reason: String) {
        summary.count(.malformed(reason))
    }

    private func decide(_ record: JudgedRecord) -> RecordOutcome {
        guard record.isJudged else { return .judgeError(status: record.status) }
        do {
            guard try isSelected(record) else { return .passedThreshold }
        } catch {
            return .malformed("\(error)")
        }
        return pair(record, chosen: nil, source: .traffic)
    }

    /// The pair of a failed answer: its question unless leaked or taken, the given chosen answer or
    /// else the chosen-answer source's, and the answer as rejected.
    private func pair(_ record: JudgedRecord, chosen given: ChosenAnswer?, source: PairSource) -> RecordOutcome {
        let key = TextNormalization.normalize(record.question)
        if evaluationPrompts.contains(key) { return .leaked }
        if taken.contains(key) { return .duplicate }
        let chosen: ChosenAnswer
        do {
            chosen = try given ?? chosenSource.chosenAnswer(for: record)
        } catch let error as ChosenAnswerError {
            switch error {
            case .noReference:
                unanswered.append(record)
                return .noReference
            case .unknownTopic: return .unknownTopic
            case let .teacher(message): return .teacherError(message)
            }
        } catch {
            return .teacherError("\(error)")
        }
        if chosen.text == record.answer { return .sameAnswer }
        taken.insert(key)
        pairs.append(PreferencePair(
            prompt: record.question, chosen: chosen.text, rejected: record.answer, source: source,
            sourceID: record.id, judgeScore: record.score, chosenFrom: chosen.origin, teacher: chosen.teacher,
            topic: record.topic))
        return .selected(chosen.origin)
    }

    /// Below `--threshold` when one is given, else failed by the judge (its `pass` is false, which is
    /// the metric's own pass threshold). Without either there is nothing to decide by.
    private func isSelected(_ record: JudgedRecord) throws -> Bool {
        if let threshold = settings.threshold, let score = record.score {
            return score < threshold
        }
        guard let passed = record.passed else {
            throw RecordError("field '\(settings.metric).pass' is missing (give --pass-threshold to select by score)")
        }
        return !passed
    }

    /// The output: the traffic pairs, plus base pairs mixed in, shuffled with `seed` (nil keeps traffic
    /// order followed by base order).
    ///
    /// Base rows whose prompt is in the evaluation set are refused, and rows repeating a traffic pair's
    /// prompt or an earlier base row are dropped. With a `ratio` R, round(R × traffic pairs) of the
    /// remaining rows are drawn at random (with `seed`, or the first ones without); fewer when fewer
    /// remain. Without a ratio all remaining rows are used. Call it once, after the last `add`.
    public func output(base: [PreferenceRow], ratio: Double?, seed: UInt64?) -> [PreferencePair] {
        summary.baseRows = base.count
        var seen = taken
        var eligible: [PreferencePair] = []
        for row in base {
            let key = TextNormalization.normalize(row.prompt)
            if evaluationPrompts.contains(key) {
                summary.baseLeaked += 1
            } else if seen.contains(key) {
                summary.baseDuplicates += 1
            } else if let chosen = row.chosen, let rejected = row.rejected {
                seen.insert(key)
                eligible.append(PreferencePair(
                    prompt: row.prompt, chosen: chosen, rejected: rejected, source: .base,
                    sourceID: row.location.description, chosenFrom: .dataset, topic: row.topic))
            }
        }
        var generator = SplitMix64(seed: seed ?? 0)
        if let ratio {
            let requested = Int((ratio * Double(pairs.count)).rounded())
            summary.baseRequested = requested
            if seed != nil { eligible.seededShuffle(using: &generator) }
            eligible = Array(eligible.prefix(requested))
        }
        summary.basePairs = eligible.count
        var all = pairs + eligible
        if seed != nil { all.seededShuffle(using: &generator) }
        return all
    }
}
