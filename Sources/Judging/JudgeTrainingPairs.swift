import Gemma
import Records

/// Human-labelled records turned into ORPO preference pairs that teach a local model to judge
/// (`judge --training-pairs`, then `orpo-train`, then `judge --local-adapter`).
///
/// The pair's prompt is exactly what the local backend scores: the judge prompt through Gemma's
/// chat template (as text, which `orpo-train` encodes with BOS first and special-token parsing
/// on) followed by the reply's opening (`{"score": ` for rubric judges, nothing for custom
/// templates). The chosen completion is the human label; each other label of the scale is a
/// rejected one, so a binary judge gets one pair per record and a 1–5 judge four. Training the
/// label tokens this way moves the very probabilities the local backend reads its score from.
public struct JudgeTrainingPairs: Sendable {
    public let config: JudgeConfig
    public let labelField: String
    let builder: PromptBuilder

    public init(config: JudgeConfig, labelField: String) throws {
        guard config.gradingType != .check else {
            throw JudgeError.invalidConfig(source: config.source, field: "grading_type",
                                           message: "a check has no model to train")
        }
        guard config.gradingType != .pairwise else {
            throw JudgeError.invalidConfig(source: config.source, field: "grading_type",
                                           message: "training pairs are made for single, reference and custom judges, not pairwise")
        }
        self.config = config
        self.labelField = labelField
        builder = PromptBuilder(config: config)
    }

    /// The pairs for one record (a record without a usable label or prompt field is a RecordError), each carrying the record's `id` (when it has one) and its label.
    public func pairs(for record: JSONObject) throws -> [JSONObject] {
        guard let raw = record.value(atPath: labelField), !raw.isNull else {
            throw RecordError("the record has no label field \"\(labelField)\"")
        }
        let scale = config.scale
        guard let label = Calibration.className(raw), let chosen = scale.option(forLabel: label) else {
            throw RecordError("field \"\(labelField)\": \(JSONSerializer.string(raw)) is not one of the scores \(scale.spokenList)")
        }
        let values: [String: String]
        switch config.promptValues(in: record) {
        case let .success(found): values = found
        case let .failure(missing): throw RecordError(missing.description)
        }
        let prompt = builder.prompt(values: values)
        let text = try ChatTemplate.render(prompt.messages) + prompt.replyPrefix
        // A rubric judge's reply continues `{"score": ` with the label and closes the object, as the
        // local backend's reply does; a custom template's reply is the bare label.
        let closing = prompt.replyPrefix.isEmpty ? "" : "}"
        return scale.options.filter { $0.label != chosen.label }.map { other in
            var pair: JSONObject = [:]
            if let id = record["id"] { pair["id"] = id }
            pair["prompt"] = .string(text)
            pair["chosen"] = .string(chosen.label + closing)
            pair["rejected"] = .string(other.label + closing)
            pair["label"] = .string(chosen.label)
            pair["judge"] = .string(config.name)
            return pair
        }
    }
}
