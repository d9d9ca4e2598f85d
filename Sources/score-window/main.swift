import CommandLineTool
import ScoreWindowCLI

// The command and its subcommands live in ScoreWindowCLI (one file each), where tests can run them in-process.
ToolMain.run(ScoreWindowCommand.self)
