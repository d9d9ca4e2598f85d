import ArgumentParser

/// A duration flag (`--period 2m`, `--timeout 60`), in seconds: the parser's syntax, or a bare
/// number of seconds (the unit every timeout flag and settings file has always used). Every
/// duration or timeout flag of every tool takes this type.
public struct DurationArgument: ExpressibleByArgument, Hashable, Sendable, CustomStringConvertible {
    public var seconds: Double
    public let text: String

    public init(seconds: Double) {
        self.seconds = seconds
        self.text = "\(seconds)s"
    }

    public init?(argument: String) {
        let bare = Double(argument).flatMap { $0.isFinite && $0 >= 0 && !argument.hasPrefix("+") ? $0 : nil }
        guard let seconds = bare ?? (try? DurationParser.seconds(argument)) else { return nil }
        self.seconds = seconds
        self.text = argument
    }

    public var description: String { text }
    public var defaultValueDescription: String { text }
}
