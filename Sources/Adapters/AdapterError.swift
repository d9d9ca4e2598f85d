/// Errors of reading, writing or applying an adapter: settings this project cannot apply
/// faithfully, and files that are not the PEFT adapter they claim to be. Each names the file and
/// the key or tensor at fault.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    case invalidArgument(String)
    case file(path: String, message: String)

    public var description: String {
        switch self {
        case let .invalidArgument(message): return message
        case let .file(path, message):
            // A message from a reader that already names the file is not prefixed twice.
            return message.hasPrefix(path + ": ") ? message : "\(path): \(message)"
        }
    }
}
