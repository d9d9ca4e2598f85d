import Records
import TrainingCLI

// The command lives in TrainingCLI (OrpoTrainCommand), where tests can run it in-process.
ToolMain.run(OrpoTrainCommand.self)
