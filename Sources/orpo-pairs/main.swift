import CommandLineTool
import OrpoPairsCLI

// The command and its subcommands live in OrpoPairsCLI (one file each), where tests can run them in-process.
ToolMain.run(OrpoPairsCommand.self)
