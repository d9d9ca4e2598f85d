import Foundation
import Records

/// What a deployment allows its model to talk about, as data: the judge metric that scores it, the
/// topics in and out of scope, the refusal it wants and the wordings that count as one, and the
/// bounds of the promotion gate. examples/banking/policy.json is the bank's:
///
///     {
///       "name": "banking",
///       "metric": "restrict_to_banking",
///       "topics": {"in_scope": ["banking"], "out_of_scope": ["off_topic"]},
///       "refusal": {
///         "text": "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?",
///         "phrases": ["not allowed to talk on this subject", ...],
///         "patterns": ["\\bnot (allowed|permitted) to (talk|speak) (on|about) (this|that) (subject|topic)\\b"]
///       },
///       "gate": {"max_false_refusal_rate": 0.2, "max_false_refusal_increase": 0.1},
///       "teacher_instructions": "You are the customer-service agent of a retail bank. ..."
///     }
///
/// Every field is required except `description` (notes for the reader), `teacher_instructions`
/// (what a teacher model is told to be; the refusal is appended) and one of `phrases` and
/// `patterns`; an unknown field is an error, so that a misspelt one is not silently ignored.
public struct DomainPolicy: Sendable {
    public var name: String
    /// The judge metric whose verdict object (`{"status", "pass", ...}`) each judged record carries.
    public var metric: String
    public var topics: PolicyTopics
    public var refusal: RefusalWordings
    public var gate: GateThresholds
    /// What a teacher model (`orpo-pairs --teacher-url`) is told to be, before the policy's refusal
    /// is appended; nil: a plain instruction built from the in-scope topics.
    public var teacherInstructions: String?
    /// Built from `refusal` when the policy is made; a policy whose wordings do not compile is never made.
    public let detector: RefusalDetector

    public init(
        name: String, metric: String, topics: PolicyTopics, refusal: RefusalWordings, gate: GateThresholds,
        teacherInstructions: String? = nil
    ) throws {
        self.name = name
        self.teacherInstructions = teacherInstructions
        self.metric = metric
        self.topics = topics
        self.refusal = refusal
        self.gate = gate
        detector = try RefusalDetector(refusal)
    }

    /// Reads and checks a policy file.
    ///
    /// - Throws: `PolicyError` naming the file and the field.
    public static func load(path: String) throws -> DomainPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyError(source: path, field: "", message: "cannot read the policy file")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes: [UInt8](data))
        } catch {
            throw PolicyError(source: path, field: "", message: "not valid JSON: \(error)")
        }
        guard let object = value.object else {
            throw PolicyError(source: path, field: "", message: "expected a JSON object, found \(value.kindName)")
        }
        return try DomainPolicy(json: object, source: path)
    }

    /// Checks a parsed policy; `source` names it in errors.
    public init(json: JSONObject, source: String) throws {
        let root = PolicyFields(json, path: "", source: source)
        try root.allow(["description", "name", "metric", "topics", "refusal", "gate", "teacher_instructions"])
        _ = try root.string("description", required: false)
        let name = try root.nonEmptyString("name")
        let metric = try root.nonEmptyString("metric")
        let teacherInstructions = try root.string("teacher_instructions", required: false)

        let topicFields = try root.object("topics")
        try topicFields.allow(["in_scope", "out_of_scope"])
        let inScope = try topicFields.labels("in_scope")
        let outOfScope = try topicFields.labels("out_of_scope")
        for (index, topic) in outOfScope.enumerated() where inScope.contains(topic) {
            throw topicFields.fail("out_of_scope[\(index)]", "'\(topic)' is also in in_scope")
        }

        let refusalFields = try root.object("refusal")
        try refusalFields.allow(["text", "phrases", "patterns"])
        let text = try refusalFields.nonEmptyString("text")
        let phrases = try refusalFields.strings("phrases", listing: "phrase")
        let patterns = try refusalFields.strings("patterns", listing: "pattern")
        if phrases == nil && patterns == nil {
            throw root.fail("refusal", "lists no wordings: give 'phrases' or 'patterns' (or both), the ways of declining that count as a refusal")
        }

        let gateFields = try root.object("gate")
        try gateFields.allow(["max_false_refusal_rate", "max_false_refusal_increase"])
        let gate = GateThresholds(
            maxFalseRefusalRate: try gateFields.share("max_false_refusal_rate"),
            maxFalseRefusalIncrease: try gateFields.share("max_false_refusal_increase"))

        do {
            try self.init(
                name: name, metric: metric, topics: PolicyTopics(inScope: inScope, outOfScope: outOfScope),
                refusal: RefusalWordings(text: text, phrases: phrases ?? [], patterns: patterns ?? []), gate: gate,
                teacherInstructions: teacherInstructions)
        } catch let error as RefusalDetector.InvalidWording {
            throw refusalFields.fail(error.field, error.message)
        }
    }
}

extension DomainPolicy: Equatable {
    public static func == (lhs: DomainPolicy, rhs: DomainPolicy) -> Bool {
        lhs.name == rhs.name && lhs.metric == rhs.metric && lhs.topics == rhs.topics && lhs.refusal == rhs.refusal
            && lhs.gate == rhs.gate && lhs.teacherInstructions == rhs.teacherInstructions
    }

    /// The system prompt of a teacher model: the instructions (or, without them, an instruction to
    /// answer the in-scope topics), then the refusal, word for word, for everything else.
    public var teacherPrompt: String {
        let instructions = teacherInstructions
            ?? "Answer questions about \(topics.inScope.joined(separator: ", ")) correctly and concisely, in one to four sentences."
        return instructions + " For any question that is not about this, reply with exactly this text and nothing else: " + refusal.text
    }
}

/// The members of one object of a policy file, read with messages that name the file and the field.
struct PolicyFields {
    let object: JSONObject
    /// The object's own dotted path ("" for the root, "refusal").
    let path: String
    let source: String

    init(_ object: JSONObject, path: String, source: String) {
        self.object = object
        self.path = path
        self.source = source
    }

    func field(_ key: String) -> String {
        path.isEmpty ? key : key.hasPrefix("[") ? path + key : "\(path).\(key)"
    }

    func fail(_ key: String, _ message: String) -> PolicyError {
        PolicyError(source: source, field: field(key), message: message)
    }

    /// Refuses members other than `keys`.
    func allow(_ keys: [String]) throws {
        for key in object.keys where !keys.contains(key) {
            throw fail(key, "unknown field (expected \(keys.map { "'\($0)'" }.joined(separator: ", ")))")
        }
    }

    func required(_ key: String) throws -> JSONValue {
        guard let value = object[key], !value.isNull else { throw fail(key, "missing") }
        return value
    }

    func string(_ key: String, required isRequired: Bool) throws -> String? {
        guard let value = object[key], !value.isNull else {
            if isRequired { throw fail(key, "missing") }
            return nil
        }
        guard let text = value.string else { throw fail(key, "expected a string, found \(value.kindName)") }
        return text
    }

    func nonEmptyString(_ key: String) throws -> String {
        let text = try string(key, required: true) ?? ""
        guard !text.allSatisfy(\.isWhitespace) else { throw fail(key, "must not be empty") }
        return text
    }

    func object(_ key: String) throws -> PolicyFields {
        let value = try required(key)
        guard let object = value.object else { throw fail(key, "expected an object, found \(value.kindName)") }
        return PolicyFields(object, path: field(key), source: source)
    }

    /// An optional list of non-empty strings; present, it must hold at least one `what`.
    func strings(_ key: String, listing what: String) throws -> [String]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let list = value.array else { throw fail(key, "expected an array of strings, found \(value.kindName)") }
        guard !list.isEmpty else { throw fail(key, "is empty: list at least one \(what)") }
        return try list.enumerated().map { index, item in
            guard let text = item.string else { throw fail("\(key)[\(index)]", "expected a string, found \(item.kindName)") }
            guard !text.allSatisfy(\.isWhitespace) else { throw fail("\(key)[\(index)]", "must not be empty") }
            return text
        }
    }

    /// A required, non-empty list of distinct topic labels.
    func labels(_ key: String) throws -> [String] {
        _ = try required(key)
        let labels = try strings(key, listing: "topic label") ?? []
        for (index, label) in labels.enumerated() where labels[..<index].contains(label) {
            throw fail("\(key)[\(index)]", "'\(label)' is listed twice")
        }
        return labels
    }

    /// A required number from 0 to 1.
    func share(_ key: String) throws -> Double {
        let value = try required(key)
        guard let number = value.double else { throw fail(key, "expected a number, found \(value.kindName)") }
        guard number >= 0 && number <= 1 else { throw fail(key, "\(number) is not a share from 0 to 1") }
        return number
    }
}
