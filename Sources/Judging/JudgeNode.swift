import Gemma
import Records

/// One yes/no question of a decomposed judge (a config's `"nodes"`): its own template, the record
/// fields it reads, its two scores (the higher one is "yes") and the probability of "yes" from which
/// it says yes. Schema and rule language: examples/judges/README.md, "Nodes".
public struct JudgeNode: Sendable, Equatable {
    public var name: String
    /// The user message, with `{question}`-style placeholders and optional `{?field}...{/field}`
    /// sections (kept only when the record has that field).
    public var template: String
    /// Prompt field -> record field, over the config's own `record_fields`.
    public var recordFields: [String: String]
    /// The two allowed replies, lower first; the second is "yes".
    public var scores: [String]
    /// The node says yes when its probability of yes is at least this (default 0.5).
    public var passThreshold: Double

    public init(name: String, template: String, recordFields: [String: String] = [:], scores: [String] = ["0", "1"],
                passThreshold: Double = 0.5) {
        self.name = name
        self.template = template
        self.recordFields = recordFields
        self.scores = scores
        self.passThreshold = passThreshold
    }

    public var scale: ScoreScale { .numeric(scores) }
    /// The reply that means yes.
    public var yesLabel: String { scores[1] }

    /// Fields every record must have (placeholders outside optional sections).
    public var requiredFields: [String] { TemplateRenderer.requiredPlaceholders(in: template) }
    /// Fields read when present: the optional sections' names and the placeholders inside them.
    public var optionalFields: [String] {
        let required = Set(requiredFields)
        var names: [String] = []
        for name in TemplateRenderer.placeholders(in: template) + sections.map(\.name)
        where !required.contains(name) && !names.contains(name) {
            names.append(name)
        }
        return names
    }

    var sections: [TemplateRenderer.Section] {
        (try? TemplateRenderer.optionalSections(in: template).get()) ?? []
    }

    /// The prompt for `record`: its fields read through `recordFields` (then the config's `shared`
    /// mapping), optional ones left out when absent or null.
    public func prompt(for record: JSONObject, shared: [String: String]) -> Result<JudgePrompt, JudgeConfig.MissingField> {
        var values: [String: String] = [:]
        func read(_ field: String) -> String? {
            let recordField = recordFields[field] ?? shared[field] ?? field
            switch record.value(atPath: recordField) {
            case nil, .null?: return nil
            case let .string(s)?: return s
            case let value?: return JSONSerializer.string(value)
            }
        }
        for field in requiredFields {
            guard let value = read(field) else {
                return .failure(JudgeConfig.MissingField(recordField: recordFields[field] ?? shared[field] ?? field, promptField: field))
            }
            values[field] = value
        }
        for field in optionalFields { values[field] = read(field) }
        return .success(JudgePrompt(messages: [ChatMessage(role: "user", content: TemplateRenderer.render(template, values: values))],
                                    replyPrefix: ""))
    }

    /// Reads and validates one entry of `"nodes"`; `path` is its key path for messages (`nodes.topic`).
    init(name: String, json: JSONValue, source: String) throws {
        let path = "nodes.\(name)"
        func fail(_ key: String, _ message: String) -> JudgeError {
            .invalidConfig(source: source, field: key.isEmpty ? path : "\(path).\(key)", message: message)
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw fail("", "the node name '\(name)' is not snake_case (letters, digits and _ only)")
        }
        guard let object = json.object else { throw fail("", "expected an object, found \(json.kindName)") }
        let known: Set<String> = ["template", "record_fields", "scores", "pass_threshold"]
        if let unknown = object.members.map(\.key).first(where: { !known.contains($0) }) {
            throw fail(unknown, "unknown key; a node has " + known.sorted().joined(separator: ", "))
        }
        self.name = name
        guard let t = object["template"], !t.isNull else { throw fail("template", "missing") }
        guard let template = t.string, !template.isEmpty else { throw fail("template", "expected a non-empty string, found \(t.kindName)") }
        if case let .failure(error) = TemplateRenderer.optionalSections(in: template) { throw fail("template", error.description) }
        let unknownField = (TemplateRenderer.placeholders(in: template)
            + ((try? TemplateRenderer.optionalSections(in: template).get()) ?? []).map(\.name))
            .first { !TemplateRenderer.knownPlaceholders.contains($0) }
        if let unknownField {
            throw fail("template", "unknown placeholder {\(unknownField)}; known: "
                       + TemplateRenderer.knownPlaceholders.sorted().map { "{\($0)}" }.joined(separator: ", "))
        }
        self.template = template
        recordFields = [:]
        if let f = object["record_fields"], !f.isNull {
            guard let fields = f.object else { throw fail("record_fields", "expected an object, found \(f.kindName)") }
            for (key, value) in fields.members {
                guard let field = value.string, !field.isEmpty else {
                    throw fail("record_fields.\(key)", "expected a field name, found \(value.kindName)")
                }
                recordFields[key] = field
            }
        }
        scores = ["0", "1"]
        if let s = object["scores"], !s.isNull {
            guard let list = s.array, list.count == 2 else { throw fail("scores", "expected two scores, e.g. [0, 1]") }
            let labels = try list.map { v -> Int in
                if let i = v.int { return i }
                if let text = v.string, let i = Int(text) { return i }
                throw fail("scores", "\(JSONSerializer.string(v)) is not an integer")
            }
            guard labels[0] != labels[1] else { throw fail("scores", "the two scores are equal") }
            scores = labels.sorted().map(String.init)
        }
        passThreshold = 0.5
        if let p = object["pass_threshold"], !p.isNull {
            guard let threshold = p.double, threshold > 0, threshold <= 1 else {
                throw fail("pass_threshold", "expected a probability in (0, 1], found \(JSONSerializer.string(p))")
            }
            passThreshold = threshold
        }
    }
}

/// How a decomposed judge's verdict follows from its nodes' decisions (a config's `"rule"`):
///
/// - `"topic"`: the node's decision (true when it says yes);
/// - `true`, `false`: constants;
/// - `{"not": R}`, `{"all": [R, ...]}`, `{"any": [R, ...]}`: negation, conjunction, disjunction,
///   evaluated left to right and stopping as soon as the answer is known;
/// - `{"if": R, "then": R, "else": R}`: the condition first, then one branch only.
///
/// A rule is a tree of these, so it has no cycles; a node is asked at most once per record, and only
/// when the evaluation reaches it (the DAG of the decisions actually taken).
public indirect enum NodeRule: Sendable, Equatable {
    case node(String)
    case constant(Bool)
    case not(NodeRule)
    case all([NodeRule])
    case any([NodeRule])
    case ifThenElse(NodeRule, NodeRule, NodeRule)

    /// Parses `json`, naming the failing part by its key path (`rule.then.all[1]`).
    init(json: JSONValue, path: String, nodes: [String], source: String) throws {
        func fail(_ where_: String, _ message: String) -> JudgeError {
            .invalidConfig(source: source, field: where_, message: message)
        }
        switch json {
        case let .string(name):
            guard nodes.contains(name) else {
                throw fail(path, "unknown node '\(name)'; the nodes are " + nodes.joined(separator: ", "))
            }
            self = .node(name)
        case let .bool(value):
            self = .constant(value)
        case let .object(object):
            let keys = Set(object.members.map(\.key))
            func sub(_ key: String) throws -> NodeRule {
                guard let v = object[key] else { throw fail("\(path).\(key)", "missing") }
                return try NodeRule(json: v, path: "\(path).\(key)", nodes: nodes, source: source)
            }
            func list(_ key: String) throws -> [NodeRule] {
                guard let items = object[key]?.array, !items.isEmpty else {
                    throw fail("\(path).\(key)", "expected a non-empty array of rules")
                }
                return try items.enumerated().map { i, item in
                    try NodeRule(json: item, path: "\(path).\(key)[\(i)]", nodes: nodes, source: source)
                }
            }
            if keys.contains("if") || keys.contains("then") || keys.contains("else") {
                if let extra = keys.subtracting(["if", "then", "else"]).sorted().first {
                    throw fail("\(path).\(extra)", "unexpected beside if/then/else")
                }
                self = .ifThenElse(try sub("if"), try sub("then"), try sub("else"))
            } else if keys.count == 1, let key = keys.first, ["not", "all", "any"].contains(key) {
                switch key {
                case "not": self = .not(try sub("not"))
                case "all": self = .all(try list("all"))
                default: self = .any(try list("any"))
                }
            } else {
                throw fail(path, "expected one of {\"not\": R}, {\"all\": [R, ...]}, {\"any\": [R, ...]} or "
                           + "{\"if\": R, \"then\": R, \"else\": R}, found keys " + keys.sorted().joined(separator: ", "))
            }
        default:
            throw fail(path, "expected a node name, true, false or an object, found \(json.kindName)")
        }
    }

    /// The node names the rule mentions, in order of first mention.
    public var nodeNames: [String] {
        var names: [String] = []
        func walk(_ rule: NodeRule) {
            switch rule {
            case let .node(name): if !names.contains(name) { names.append(name) }
            case .constant: break
            case let .not(r): walk(r)
            case let .all(rs), let .any(rs): rs.forEach(walk)
            case let .ifThenElse(c, t, e): walk(c); walk(t); walk(e)
            }
        }
        walk(self)
        return names
    }

    /// The rule's value, asking `decide` for a node's decision only when it is needed.
    public func evaluate(_ decide: (String) throws -> Bool) rethrows -> Bool {
        switch self {
        case let .node(name): return try decide(name)
        case let .constant(value): return value
        case let .not(rule): return try !rule.evaluate(decide)
        case let .all(rules):
            for rule in rules where try !rule.evaluate(decide) { return false }
            return true
        case let .any(rules):
            for rule in rules where try rule.evaluate(decide) { return true }
            return false
        case let .ifThenElse(condition, then, otherwise):
            return try condition.evaluate(decide) ? then.evaluate(decide) : otherwise.evaluate(decide)
        }
    }
}

/// One evaluated node of a verdict: the probability of yes (nil when the backend gave no
/// probabilities and the reply text was read) and the decision, 1 for yes and 0 for no.
public struct NodeOutcome: Sendable, Equatable {
    public var name: String
    public var probability: Double?
    public var decision: Int

    public init(name: String, probability: Double?, decision: Int) {
        self.name = name
        self.probability = probability
        self.decision = decision
    }

    /// `{"p": 0.97, "decision": 1}` (p rounded to 6 decimals, null without probabilities).
    public var json: JSONValue {
        .object(["p": probability.map { .double(Verdict.rounded($0)) } ?? .null, "decision": .int(Int64(decision))])
    }
}
