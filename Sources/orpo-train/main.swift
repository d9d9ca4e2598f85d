import CommandLineTool
import TrainingCLI

// The command and its subcommands live in TrainingCLI (one file each), where tests can run them in-process.
ToolMain.run(OrpoTrainCommand.self)
