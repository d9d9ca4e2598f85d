import Records

// ToolMain maps ArgumentParser's usage status (64) to the 2 that judge(1) documents.
ToolMain.run(JudgeCommand.self)
