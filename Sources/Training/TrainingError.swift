/// Errors of training: bad data, impossible settings, an adapter that does not fit the model.
/// Each names the file, line or key at fault. (Errors of adapter files are AdapterError.)
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidArgument(String)
    case data(source: String, message: String)

    public var description: String {
        switch self {
        case let .invalidArgument(message): return message
        case let .data(source, message): return "\(source): \(message)"
        }
    }
}
