import CommandLineTool
import DriftAlertCLI

// The command and its subcommands live in DriftAlertCLI (one file each), where tests can run them in-process.
ToolMain.run(DriftAlertCommand.self)
