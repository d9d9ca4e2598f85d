import ArgumentParser
import CommandLineTool
import Foundation
import LoRAMergeCLI
import Merging
import Testing

/// The command line: flags, the exit status of a failed merge, and tokenizer files carried over from
/// a Hugging Face base.
@Suite struct LoRAMergeCommandTests {
    @Test func parsesEveryOption() throws {
        let c = try LoRAMergeCommand.parse(["--base", "m.gguf", "--adapter", "a", "--out", "o.gguf", "--type", "q8_0", "--threads", "3"])
        #expect(c.base == "m.gguf" && c.adapter == "a" && c.out == "o.gguf" && c.type == .q8_0 && c.threads == 3)
        #expect(throws: (any Error).self) { try LoRAMergeCommand.parse(["--base", "m", "--adapter", "a", "--out", "o", "--type", "q4_k"]) }
        #expect(throws: (any Error).self) { try LoRAMergeCommand.parse(["--base", "m", "--adapter", "a"]) }
        #expect(throws: (any Error).self) { try LoRAMergeCommand.parse(["--base", "m", "--adapter", "a", "--out", "o", "--threads", "0"]) }
    }

    /// `--model` and `-o/--output` are the spellings every tool shares; `--base` and `--out` remain
    /// as hidden old spellings, and giving a flag under both names is a usage error.
    @Test func sharedSpellingsAndTheirOldAliases() throws {
        let c = try LoRAMergeCommand.parse(["--model", "m.gguf", "--adapter", "a", "-o", "o.gguf"])
        #expect(c.base == "m.gguf" && c.out == "o.gguf")
        let long = try LoRAMergeCommand.parse(["--adapter", "a", "--output", "o.gguf"])
        #expect(long.out == "o.gguf" && long.base == DefaultModel.path)
        #expect(throws: (any Error).self) { try LoRAMergeCommand.parse(["--adapter", "a", "--out", "x", "-o", "y"]) }
        #expect(throws: (any Error).self) { try LoRAMergeCommand.parse(["--model", "m", "--base", "n", "--adapter", "a", "-o", "y"]) }
        #expect(!LoRAMergeCommand.helpMessage().contains("--out "), "old spellings are hidden")
        #expect(!LoRAMergeCommand.helpMessage().contains("--base"), "old spellings are hidden")
    }

    @Test func aFailedMergeExitsWithStatus2AndWritesNothing() throws {
        let dir = try TemporaryDirectory()
        let base = try TinyGemmaFile.write(to: dir("base.gguf"))
        var spec = RandomAdapter(model: TinyGemmaFile.config, modules: ["q_proj"])
        spec.omit = [spec.name(layer: 2, module: "q_proj", factor: "A")]
        let adapter = try spec.write(to: dir("broken-lora"))
        let command = try LoRAMergeCommand.parse(["--base", base, "--adapter", adapter, "--out", dir("out.gguf")])
        do {
            try command.run()
            Issue.record("the merge succeeded")
        } catch let exit as ExitCode {
            #expect(exit.rawValue == 2)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["base.gguf", "broken-lora"])
    }

    @Test func huggingFaceBaseCarriesItsTokenizerFilesOver() throws {
        let dir = try TemporaryDirectory()
        let adapter = try RandomAdapter(model: TinyGemmaFile.config, modules: ["v_proj"]).write(to: dir("lora"))
        let hfBase = dir("hf-base")
        try LoRAMerger(basePath: try TinyGemmaFile.write(to: dir("base.gguf")), adapterPath: adapter, outputPath: hfBase, threads: 2).run()
        try Data("{\"version\": \"1.0\"}".utf8).write(to: URL(fileURLWithPath: hfBase + "/tokenizer.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: hfBase + "/tokenizer_config.json"))

        let summary = try LoRAMerger(basePath: hfBase, adapterPath: adapter, outputPath: dir("hf-twice"), threads: 2).run()
        #expect(summary.copiedTokenizerFiles == ["tokenizer.json", "tokenizer_config.json"])
        #expect(FileManager.default.contentsEqual(atPath: hfBase + "/tokenizer.json", andPath: dir("hf-twice") + "/tokenizer.json"))
        // A GGUF output needs a GGUF base.
        #expect(throws: MergeError.self) {
            try LoRAMerger(basePath: hfBase, adapterPath: adapter, outputPath: dir("x.gguf"), threads: 2).run()
        }
    }

    /// Issue 20, item 4: --out replaces only an earlier output of lora-merge (a GGUF with the
    /// merged-adapter key, a directory with the marker, or an empty directory) unless --force;
    /// anything else is refused before loading, untouched.
    @Test func outReplacesOnlyAnEarlierMerge() throws {
        let dir = try TemporaryDirectory()
        let base = try TinyGemmaFile.write(to: dir("base.gguf"))
        let adapter = try RandomAdapter(model: TinyGemmaFile.config, modules: ["v_proj"]).write(to: dir("lora"))
        func merge(_ out: String, force: Bool = false) throws {
            try LoRAMerger(basePath: base, adapterPath: adapter, outputPath: out, threads: 2, force: force).run()
        }
        func expectRefused(_ out: String, _ reason: String) {
            do {
                try merge(out)
                Issue.record("\(out) was replaced")
            } catch {
                #expect("\(error)".contains("\(reason), not an earlier output of lora-merge"), "\(error)")
            }
        }
        // Someone's data at --out: a directory with files, a plain file, a GGUF not from lora-merge.
        try FileManager.default.createDirectory(atPath: dir("data/sub"), withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir("data/sub/notes.txt")))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir("notes")))
        try FileManager.default.copyItem(atPath: base, toPath: dir("copy.gguf"))
        expectRefused(dir("data"), "a directory without lora-merge's .lora-merge marker")
        expectRefused(dir("notes"), "a file")
        expectRefused(dir("copy.gguf"), "a GGUF file without the 'feedbackloop.merged_adapter' key")
        #expect(try String(contentsOfFile: dir("data/sub/notes.txt"), encoding: .utf8) == "keep")
        #expect(try String(contentsOfFile: dir("notes"), encoding: .utf8) == "keep")
        #expect(FileManager.default.contentsEqual(atPath: base, andPath: dir("copy.gguf")))

        // Earlier outputs are replaced, and --force replaces anything.
        try merge(dir("merged.gguf"))
        try merge(dir("merged.gguf"))
        try merge(dir("merged-hf"))
        #expect(FileManager.default.fileExists(atPath: dir("merged-hf") + "/.lora-merge"))
        try merge(dir("merged-hf"))
        try FileManager.default.createDirectory(atPath: dir("empty"), withIntermediateDirectories: true)
        try merge(dir("empty"))
        try merge(dir("data"), force: true)
        #expect(!FileManager.default.fileExists(atPath: dir("data/sub/notes.txt")))
        #expect(try LoRAMergeCommand.parse(["--base", "b", "--adapter", "a", "--out", "o", "--force"]).force)
    }
}
