import Records

// The commands are small fronts over the Evaluation library (the rule, the figures, the gate), which
// the library's tests cover; the tool itself is run by PolicyTests as scripts run it.
ToolMain.run(LoopEvalCommand.self)
