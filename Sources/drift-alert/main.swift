import Monitoring
import Records

ToolMain.run(DriftAlertCommand.self)
