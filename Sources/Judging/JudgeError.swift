/// What can go wrong while setting a judge up: a bad config file or flag. Per-record problems are not
/// errors of this kind; they become a verdict with status "error" or "parse_error".
public enum JudgeError: Error, CustomStringConvertible, Equatable {
    /// The judge config (file or flags) is wrong: `source` names the file or flag, `field` the key.
    case invalidConfig(source: String, field: String, message: String)
    /// A backend cannot be used as configured (no model file, no base URL).
    case backendUnavailable(String)

    public var description: String {
        switch self {
        case let .invalidConfig(source, field, message):
            // The file itself (unreadable) has no field to name.
            return field.isEmpty ? "\(source): \(message)" : "\(source): field \"\(field)\": \(message)"
        case let .backendUnavailable(message):
            return message
        }
    }
}
