import CommandLineTool
import LoopEvalCLI

// The command and its subcommands live in LoopEvalCLI (one file each), where tests can run them in-process.
ToolMain.run(LoopEvalCommand.self)
