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
        if config.hasNodes { return try nodePairs(for: record) }
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

    /// The record field of node labels: `node_labels.<node>` holds 0 or 1 (the node's two scores, or
    /// true/false); absent or null means no pair for that node.
    public static let nodeLabelsField = "node_labels"

    /// A decomposed judge: one pair per labelled node, its prompt exactly as the local backend scores
    /// it (the node's message through the chat template, the score token next), chosen the labelled
    /// score and rejected the other, with `"node"` naming the node. A record without the labels
    /// field is a RecordError, as is a label that is not one of the node's scores, a label of no
    /// node, or a prompt field a labelled node needs and the record lacks.
    func nodePairs(for record: JSONObject) throws -> [JSONObject] {
        let field = Self.nodeLabelsField
        guard let labels = record[field], !labels.isNull else {
            throw RecordError("the record has no field \"\(field)\" (the labels of the nodes \(config.nodes.map(\.name).joined(separator: ", ")))")
        }
        guard let object = labels.object else { throw RecordError("field \"\(field)\": expected an object, found \(labels.kindName)") }
        if let unknown = object.members.map(\.key).first(where: { config.node($0) == nil }) {
            throw RecordError("field \"\(field).\(unknown)\": no such node; the nodes are \(config.nodes.map(\.name).joined(separator: ", "))")
        }
        var pairs: [JSONObject] = []
        for node in config.nodes {
            guard let raw = object[node.name], !raw.isNull else { continue }
            let label: String?
            switch raw {
            case let .bool(yes): label = yes ? node.scores[1] : node.scores[0]
            default: label = Calibration.className(raw)
            }
            guard let chosen = label, node.scores.contains(chosen) else {
                throw RecordError("field \"\(field).\(node.name)\": \(JSONSerializer.string(raw)) is not one of the node's scores \(node.scale.spokenList)")
            }
            let prompt: JudgePrompt
            switch node.prompt(for: record, shared: config.recordFields) {
            case let .success(built): prompt = built
            case let .failure(missing): throw RecordError("node \(node.name): \(missing)")
            }
            var pair: JSONObject = [:]
            if let id = record["id"] { pair["id"] = id }
            pair["prompt"] = .string(try ChatTemplate.render(prompt.messages) + prompt.replyPrefix)
            pair["chosen"] = .string(chosen)
            pair["rejected"] = .string(node.scores.first { $0 != chosen } ?? "")
            pair["label"] = .string(chosen)
            pair["judge"] = .string(config.name)
            pair["node"] = .string(node.name)
            pairs.append(pair)
        }
        return pairs
    }
}
