import Foundation
import Testing
import TestSupport

/// lora-merge stopped while it writes: the hidden temporary output beside `--output` is removed, the
/// final name is never created, and the status is 128 plus the signal's number (issue 20, item 9).
/// On the real default model, so that the merge lasts long enough to be caught writing.
@Suite(.enabled(if: RealModel.isAvailable, "needs the default model (scripts/setup installs it; under CI its absence fails)"))
struct LoRAMergeSignalTests {
    @Test func aStoppedMergeLeavesNothingBehind() throws {
        let out = temporaryPath("-merge-signal")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let adapter = URL(fileURLWithPath: SharedFixtures.directory)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/judges/adapters/restrict-to-banking.tar.gz").path
        try #require(FileManager.default.fileExists(atPath: adapter), "\(adapter)")

        let merge = Process()
        merge.executableURL = productsDirectory(containing: "lora-merge").appendingPathComponent("lora-merge")
        merge.arguments = ["--model", RealModel.path, "--adapter", adapter, "-o", out + "/merged.gguf",
                           "--type", "f32", "--threads", "1"]
        merge.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try merge.run()

        // Caught writing: its temporary file is there (a hang guard of ten minutes, not a time bound).
        var writing = false
        for _ in 0..<6000 where merge.isRunning {
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: out), !entries.isEmpty {
                writing = true
                break
            }
            usleep(100_000)
        }
        try #require(writing, "lora-merge ended (status \(merge.terminationStatus)) before it was seen writing")
        merge.terminate()  // SIGTERM
        merge.waitUntilExit()

        #expect(merge.terminationStatus == 128 + SIGTERM)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [], "no partial or hidden output is left")
    }
}
