import ArgumentParser

/// The flags every record filter shares, pulled into a command with `@OptionGroup`.
public struct RecordFilterOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("JSONL input files; '-' or none reads standard input.", valueName: "file"))
    public var inputs: [String] = []

    @Option(name: .customLong("on-error"),
            help: "What to do with a record that cannot be processed: mark (pass it on with an \"error\" field), skip (drop it, report on stderr), fail (stop, exit 2).")
    public var onError: ErrorPolicy = .mark

    public init() {}

    public init(inputs: [String], onError: ErrorPolicy = .mark) {
        self.inputs = inputs
        self.onError = onError
    }
}
