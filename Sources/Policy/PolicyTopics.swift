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
