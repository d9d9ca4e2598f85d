import Merging
import Records

ToolMain.run(LoRAMergeCommand.self)
