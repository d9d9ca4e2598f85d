import CommandLineTool
import JudgeCLI

// The command and its subcommands live in JudgeCLI (one file each), where tests can run them in-process.
ToolMain.run(JudgeCommand.self)
