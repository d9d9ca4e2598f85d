/// A record the tool could not process: thrown by a per-record closure, handled by the policy.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// An error that ends the run whatever the policy (bad configuration, unusable output): exit 2.
public struct FatalError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
