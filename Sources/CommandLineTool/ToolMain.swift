import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a filter's root command and exits with the project's statuses: ArgumentParser reports a usage
/// error with 64 (EX_USAGE); the filters promise 2 for usage and fatal errors, as grep and jq do.
public enum ToolMain {
    public static func run<Command: ParsableCommand>(_ type: Command.Type, arguments: [String]? = nil) -> Never {
        do {
            var command = try type.parseAsRoot(arguments)
            try command.run()
            exit(ExitStatus.success)
        } catch {
            let code = type.exitCode(for: error)
            let message = type.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(ExitStatus.success)
            }
            if !message.isEmpty { fputs(message + "\n", stderr) }
            exit(code == .validationFailure ? ExitStatus.fatal : code.rawValue)
        }
    }
}
