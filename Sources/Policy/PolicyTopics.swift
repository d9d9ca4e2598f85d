import Records

/// Which side of the policy a topic is on.
public enum TopicScope: String, Sendable, CaseIterable {
    /// The model must answer these questions (banking): refusing one is a false refusal.
    case inScope = "in_scope"
    /// The model must refuse these (off_topic): answering one is the failure.
    case outOfScope = "out_of_scope"
}

/// The topic labels a deployment's questions carry (a labelled split's `topic`, a request's
/// `metadata.topic`), each in or out of scope.
public struct PolicyTopics: Sendable, Equatable {
    /// In the file's order; never empty.
    public var inScope: [String]
    /// In the file's order; never empty, and no label is on both sides.
    public var outOfScope: [String]

    public init(inScope: [String], outOfScope: [String]) {
        self.inScope = inScope
        self.outOfScope = outOfScope
    }

    /// Every label, in scope first.
    public var all: [String] { inScope + outOfScope }

    /// The scope of `topic`; nil for a label the policy does not know.
    public func scope(of topic: String) -> TopicScope? {
        if inScope.contains(topic) { return .inScope }
        if outOfScope.contains(topic) { return .outOfScope }
        return nil
    }

    /// The labels as an error message lists them: `'banking' or 'off_topic'`.
    public var expected: String {
        let quoted = all.map { "'\($0)'" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted[quoted.count - 1]
    }

    /// The in-scope labels as prose says them: `banking`, `banking or loans`.
    public var inScopeName: String {
        guard inScope.count > 1 else { return inScope.first ?? "" }
        return inScope.dropLast().joined(separator: ", ") + " or " + inScope[inScope.count - 1]
    }
}

extension PolicyTopics {
    /// The name of a decomposed judge's node that says whether the question is in scope.
    public static let judgeTopicNode = "topic"

    /// The topic a decomposed judge's `topic` node decided, read from the judge's verdict object
    /// (`<metric>.nodes.topic = {"p", "decision"}`, as `judge` writes it): decision 1 is the policy's
    /// first in-scope topic, 0 its first out-of-scope one; nil when the verdict has no `nodes` or no
    /// `topic` node (it was not asked, or the judge has no nodes).
    ///
    /// - Throws: `RecordError` naming the field when `nodes` is not an object, or the topic node is
    ///   not an object whose `decision` is 0 or 1 (null and a missing decision included).
    public func topic(decidedIn verdict: JSONObject, metric: String) throws -> String? {
        let node = Self.judgeTopicNode
        switch verdict["nodes"] {
        case nil, .null?:
            return nil
        case let .object(nodes)?:
            guard let value = nodes[node] else { return nil }
            guard case let .object(result) = value else {
                throw RecordError("field '\(metric).nodes.\(node)' must be an object with 'decision' 0 or 1, found \(value.kindName)")
            }
            let field = "\(metric).nodes.\(node).decision"
            switch result["decision"] {
            case nil: throw RecordError("field '\(field)' is missing")
            case let decision? where decision.int == 1: return inScope.first
            case let decision? where decision.int == 0: return outOfScope.first
            case let decision?:
                throw RecordError("field '\(field)' must be 0 or 1, found \(JSONSerializer.string(decision))")
            }
        case let value?:
            throw RecordError("field '\(metric).nodes' must be an object, found \(value.kindName)")
        }
    }
}
