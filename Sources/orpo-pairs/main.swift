import PairBuilding
import Records

// The command lives in PairBuilding (OrpoPairsCommand), where tests can run it in-process; ToolMain
// maps ArgumentParser's usage status (64) to the 2 that orpo-pairs(1) documents.
ToolMain.run(OrpoPairsCommand.self)
