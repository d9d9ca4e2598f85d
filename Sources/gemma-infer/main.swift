import CommandLineTool
import GemmaInferCLI

// The command and its subcommands live in GemmaInferCLI (one file each), where tests can run them in-process.
ToolMain.run(GemmaInfer.self)
