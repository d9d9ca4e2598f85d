import Foundation
import Records

/// One metric's judge, as a JSON file in `examples/judges/` describes it (schema in that directory's
/// README), validated field by field so that a typo names the file and the key.
///
/// Two optional keys extend the documented schema: `scores` (a list of integers) gives the allowed
/// scores of a `custom` template, which has no rubric (default `[0, 1]`), and `check` describes a
/// `grading_type: "check"` metric that needs no model.
public struct JudgeConfig: Sendable {
    public var name: String
    public var gradingType: GradingType
    public var definition: String
    /// Score label -> description, in ascending score order.
    public var rubric: [(score: String, description: String)]
    /// Few-shot examples: prompt field -> text, plus `score` and `justification`.
    public var examples: [JSONObject]
    public var passThreshold: Double
    /// Prompt field ("question", "answer", "reference", ...) -> record field.
    public var recordFields: [String: String]
    public var version: String
    /// The `custom` template.
    public var template: String?
    /// The no-model check of a `check` metric.
    public var check: Check?
    /// A LoRA adapter (PEFT directory or .tar.gz) the local backend applies to its model for this
    /// judge, e.g. one trained on labelled judgements; relative paths in a config file are resolved
    /// against the file's directory. HTTP backends ignore it.
    public var localAdapter: String?
    /// Where the config came from, for messages.
    public var source: String
    /// The yes/no questions of a decomposed judge, in the config's order (empty for one prompt).
    public var nodes: [JudgeNode] = []
    /// How the nodes' decisions make the verdict; set exactly when `nodes` is not empty.
    public var rule: NodeRule?
    /// The rule as written, for `template_sha`.
    var ruleJSON: JSONValue?

    /// Whether the metric is decided by `nodes` and `rule` rather than one prompt.
    public var hasNodes: Bool { !nodes.isEmpty }

    /// The node called `name`.
    public func node(_ name: String) -> JudgeNode? { nodes.first { $0.name == name } }

    public init(
        name: String, gradingType: GradingType, definition: String = "",
        rubric: [(score: String, description: String)] = [], examples: [JSONObject] = [],
        passThreshold: Double = 1, recordFields: [String: String] = [:], version: String = "1",
        template: String? = nil, check: Check? = nil, scores: [String]? = nil, source: String = "flags"
    ) {
        self.name = name
        self.gradingType = gradingType
        self.definition = definition
        self.rubric = rubric
        self.examples = examples
        self.passThreshold = passThreshold
        self.recordFields = recordFields
        self.version = version
        self.template = template
        self.check = check
        self.explicitScores = scores
        self.source = source
    }

    var explicitScores: [String]?

    /// The replies the judge may give.
    public var scale: ScoreScale {
        if gradingType == .pairwise { return .pairwise }
        if let explicitScores { return .numeric(explicitScores) }
        if !rubric.isEmpty { return .numeric(rubric.map(\.score)) }
        return .numeric(["0", "1"])
    }

    /// The record field that fills prompt field `promptField` (itself unless mapped).
    public func recordField(for promptField: String) -> String {
        recordFields[promptField] ?? promptField
    }

    /// Prompt fields that are text, as gemma-infer reads a question and writes an answer: they
    /// must be JSON strings, in judge as in gemma-infer (a number there is refused by both).
    public static let textFields: Set<String> = ["question", "answer", "answer_a", "answer_b"]

    /// The prompt's fields (question, answer, ...) read from a record through `recordFields`. The
    /// text fields must be strings; another field's value that is not a string (a reference
    /// number, a context list) is used as its JSON text.
    public func promptValues(in record: JSONObject) -> Result<[String: String], MissingField> {
        var values: [String: String] = [:]
        for field in promptFields {
            let recordField = recordField(for: field)
            switch record.value(atPath: recordField) {
            case nil, .null?: return .failure(MissingField(recordField: recordField, promptField: field))
            case let .string(s)?: values[field] = s
            case let value? where Self.textFields.contains(field):
                return .failure(MissingField(recordField: recordField, promptField: field, found: value.kindName))
            case let value?: values[field] = JSONSerializer.string(value)
            }
        }
        return .success(values)
    }

    /// A record field the prompt needs and the record lacks, or holds as something other than
    /// the string a text field must be (`found` names what it holds).
    public struct MissingField: Error, CustomStringConvertible {
        public var recordField: String
        public var promptField: String
        public var found: String? = nil
        public var description: String {
            if let found {
                return "field \"\(recordField)\" (the \(promptField) of the prompt) must be a string, got \(found)"
            }
            return "the record has no field \"\(recordField)\" (the \(promptField) of the prompt)"
        }
    }

    /// Reads and validates a config file.
    public static func load(path: String) throws -> JudgeConfig {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw JudgeError.invalidConfig(source: path, field: "", message: "cannot read: \(SystemErrorText.reason(error))")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes: bytes) } catch {
            throw JudgeError.invalidConfig(source: path, field: "", message: "not valid JSON: \(error)")
        }
        guard let object = value.object else {
            throw JudgeError.invalidConfig(source: path, field: "", message: "expected a JSON object, found \(value.kindName)")
        }
        return try JudgeConfig(json: object, source: path)
    }

    /// Validates a parsed config.
    public init(json: JSONObject, source: String) throws {
        func fail(_ field: String, _ message: String) -> JudgeError {
            .invalidConfig(source: source, field: field, message: message)
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = json[key], !v.isNull else {
                if required { throw fail(key, "missing") }
                return nil
            }
            guard let s = v.string else { throw fail(key, "expected a string, found \(v.kindName)") }
            return s
        }
        self.source = source
        guard let name = try string("name", required: true), !name.isEmpty else { throw fail("name", "must not be empty") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw fail("name", "'\(name)' is not snake_case (letters, digits and _ only)")
        }
        self.name = name
        let typeName = try string("grading_type", required: true) ?? ""
        guard let type = GradingType(rawValue: typeName) else {
            let allowed = GradingType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("grading_type", "'\(typeName)' is not one of \(allowed)")
        }
        gradingType = type
        definition = try string("definition", required: false) ?? ""
        version = try string("version", required: false) ?? "1"
        template = try string("template", required: false)

        rubric = []
        if let r = json["rubric"], !r.isNull {
            guard let object = r.object else { throw fail("rubric", "expected an object, found \(r.kindName)") }
            for (key, value) in object.members {
                guard Int(key) != nil else { throw fail("rubric", "key '\(key)' is not an integer score") }
                guard let text = value.string else { throw fail("rubric.\(key)", "expected a string, found \(value.kindName)") }
                rubric.append((key, text))
            }
            rubric.sort { (Int($0.score) ?? 0) < (Int($1.score) ?? 0) }
        }

        explicitScores = nil
        if let s = json["scores"], !s.isNull {
            guard let list = s.array, !list.isEmpty else { throw fail("scores", "expected a non-empty array of integers") }
            explicitScores = try list.map { v in
                guard let i = v.int else { throw fail("scores", "\(v) is not an integer") }
                return String(i)
            }
        }

        examples = []
        if let e = json["examples"], !e.isNull {
            guard let list = e.array else { throw fail("examples", "expected an array, found \(e.kindName)") }
            for (i, item) in list.enumerated() {
                guard let object = item.object else { throw fail("examples[\(i)]", "expected an object, found \(item.kindName)") }
                examples.append(object)
            }
        }

        if let p = json["pass_threshold"], !p.isNull {
            guard let threshold = p.double else { throw fail("pass_threshold", "expected a number, found \(p.kindName)") }
            passThreshold = threshold
        } else {
            passThreshold = 1
        }

        recordFields = [:]
        if let f = json["record_fields"], !f.isNull {
            guard let object = f.object else { throw fail("record_fields", "expected an object, found \(f.kindName)") }
            for (key, value) in object.members {
                guard let field = value.string else { throw fail("record_fields.\(key)", "expected a string, found \(value.kindName)") }
                recordFields[key] = field
            }
        }

        localAdapter = nil
        if let a = json["local_adapter"], !a.isNull {
            guard let path = a.string, !path.isEmpty else { throw fail("local_adapter", "expected a path, found \(a.kindName)") }
            localAdapter = path.hasPrefix("/") ? path
                : URL(fileURLWithPath: source).deletingLastPathComponent().appendingPathComponent(path).path
        }

        if let n = json["nodes"], !n.isNull {
            guard let object = n.object, !object.members.isEmpty else {
                throw fail("nodes", "expected an object of named nodes, found \(n.object == nil ? n.kindName : "an empty object")")
            }
            nodes = try object.members.map { try JudgeNode(name: $0.key, json: $0.value, source: source) }
            guard let r = json["rule"], !r.isNull else { throw fail("rule", "missing (needed with nodes)") }
            rule = try NodeRule(json: r, path: "rule", nodes: nodes.map(\.name), source: source)
            ruleJSON = r
        } else if let r = json["rule"], !r.isNull {
            throw fail("rule", "given without nodes")
        }

        check = nil
        if let c = json["check"], !c.isNull {
            guard let object = c.object else { throw fail("check", "expected an object, found \(c.kindName)") }
            check = try Check(json: object, source: source)
        }
        try validate()
    }

    /// Checks that the fields a grading type needs are present and consistent.
    public func validate() throws {
        func fail(_ field: String, _ message: String) -> JudgeError {
            .invalidConfig(source: source, field: field, message: message)
        }
        switch gradingType {
        case .single, .reference:
            guard !definition.isEmpty else { throw fail("definition", "missing (needed by \(gradingType.rawValue))") }
            guard rubric.count >= 2 else { throw fail("rubric", "needs at least two scores") }
        case .pairwise:
            guard !definition.isEmpty else { throw fail("definition", "missing (needed by pairwise)") }
        case .custom where hasNodes:
            guard template == nil else { throw fail("template", "a config with nodes has a template per node, not one of its own") }
            guard rule != nil else { throw fail("rule", "missing (needed with nodes)") }
        case .custom:
            guard let template, !template.isEmpty else { throw fail("template", "missing (needed by custom)") }
            let unknown = TemplateRenderer.placeholders(in: template).filter { !TemplateRenderer.knownPlaceholders.contains($0) }
            if let first = unknown.first {
                throw fail("template", "unknown placeholder {\(first)}; known: "
                           + TemplateRenderer.knownPlaceholders.sorted().map { "{\($0)}" }.joined(separator: ", "))
            }
            guard scale.options.count >= 2 else { throw fail("scores", "needs at least two integer scores") }
        case .check:
            guard check != nil else { throw fail("check", "missing (needed by grading_type check)") }
        }
        if hasNodes && gradingType != .custom {
            throw fail("nodes", "nodes need grading_type custom, not \(gradingType.rawValue)")
        }
        for (i, example) in examples.enumerated() where gradingType != .check {
            guard let score = example["score"] ?? example["winner"] else { throw fail("examples[\(i)].score", "missing") }
            let label: String
            switch score {
            case let .number(n): label = n.isInteger ? n.text : String(n.double)
            case let .string(s): label = s
            default: throw fail("examples[\(i)].score", "expected a score, found \(score.kindName)")
            }
            guard scale.option(forLabel: label) != nil else {
                throw fail("examples[\(i)].score", "\(label) is not one of the allowed scores \(scale.spokenList)")
            }
        }
    }

    /// The record fields a judge of this type reads, as prompt field names.
    public var promptFields: [String] {
        switch gradingType {
        case .single: return ["question", "answer"]
        case .reference: return ["question", "answer", "reference"]
        case .pairwise: return ["question", "answer_a", "answer_b"]
        case .custom: return TemplateRenderer.placeholders(in: template ?? "")
        case .check: return ["answer"]
        }
    }
}
