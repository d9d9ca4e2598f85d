import CommandLineTool
import LoRAMergeCLI

// The command and its subcommands live in LoRAMergeCLI (one file each), where tests can run them in-process.
ToolMain.run(LoRAMergeCommand.self)
