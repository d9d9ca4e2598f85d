import Monitoring
import Records

ToolMain.run(ScoreWindowCommand.self)
