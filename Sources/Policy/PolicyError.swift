/// A policy file that cannot be used: which file, which field, and what is wrong with it, so that
/// the message alone says what to fix ("policy.json: field 'refusal.phrases': must not be empty").
public struct PolicyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or whatever the policy was read from).
    public var source: String
    /// The dotted path of the field (`gate.max_false_refusal_rate`, `topics.in_scope[1]`); empty for a
    /// problem with the file as a whole (unreadable, not JSON).
    public var field: String
    public var message: String

    public init(source: String, field: String, message: String) {
        self.source = source
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(source): \(message)" : "\(source): field '\(field)': \(message)"
    }
}
