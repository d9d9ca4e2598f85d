// One `.EX` … `.EE` example of a man page and what running it must show. Roff comments right before
// `.EX` of the form `.\" test: …` say what the example does, so the page itself states how it is
// checked:
//   .\" test: status N          the example exits N (default 0)
//   .\" test: needs model       it runs the default model (skipped where the model is not installed)
//   .\" test: stdout jsonl      standard output is non-empty JSON Lines (the default)
//   .\" test: stdout text       standard output is non-empty text (not records)
//   .\" test: stdout any        standard output may be empty, but what it has is JSON Lines
//   .\" test: stdout none       the example writes only files
//   .\" test: writes FILE       FILE exists afterwards and is non-empty (JSON Lines if it ends .jsonl)
//   .\" test: not run: REASON   the example cannot run in a test; the reason is required

/// What standard output of an example must look like.
enum ExpectedOutput: String {
    case jsonl, text, any, none
}

/// An example with its checks.
struct ManPageExample {
    /// The shell text, un-escaped, as a user would type it.
    var script: String
    /// Where the example starts ("judge.1:343").
    var location: String
    var status: Int32 = 0
    var needsModel = false
    var output: ExpectedOutput = .jsonl
    var writes: [String] = []
    /// Why the example is not run, if it is not.
    var notRunReason: String?

    /// The text of a `.\" test: …` comment, if `line` is one.
    static func directive(in line: String) -> String? {
        let prefix = ".\\\" test:"
        guard line.hasPrefix(prefix) else { return nil }
        return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
    }

    init(script: String, directives: [String], location: String) throws {
        self.script = script
        self.location = location
        for directive in directives {
            let words = directive.split(separator: " ", maxSplits: 1).map(String.init)
            let argument = words.count > 1 ? words[1] : ""
            switch words.first ?? "" {
            case "status":
                guard let status = Int32(argument) else { throw Self.bad(directive, location) }
                self.status = status
            case "needs" where argument == "model":
                needsModel = true
            case "stdout":
                guard let output = ExpectedOutput(rawValue: argument) else { throw Self.bad(directive, location) }
                self.output = output
            case "writes" where !argument.isEmpty:
                writes.append(argument)
            case "not" where argument.hasPrefix("run:"):
                let reason = argument.dropFirst(4).trimmingCharacters(in: .whitespaces)
                guard !reason.isEmpty else { throw Self.bad(directive, location) }
                notRunReason = reason
            default:
                throw Self.bad(directive, location)
            }
        }
    }

    private static func bad(_ directive: String, _ location: String) -> ManPage.FormatError {
        ManPage.FormatError(description: "\(location): unknown or incomplete test directive '\(directive)'")
    }
}
