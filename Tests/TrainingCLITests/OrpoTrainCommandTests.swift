import Adapters
import Foundation
import Gemma
import Records
import Testing
import Training
@testable import TrainingCLI

@Suite struct OrpoTrainCommandTests {
    static let tokenizedPair = #"{"prompt_input_ids":[2,10,11,12],"chosen_input_ids":[2,10,11,12,20,21,1],"rejected_input_ids":[2,10,11,12,30,31,32,1]}"#
    static let metricNames = ["loss", "nll_loss", "log_odds_ratio", "log_odds_chosen", "rewards/chosen",
                              "rewards/rejected", "rewards/accuracies", "rewards/margins", "learning_rate",
                              "grad_norm", "tokens_per_second", "step", "epoch"]

    @Test func lossFallsOnARepeatedPairAndRecordsCarryTRLNames() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair, Self.tokenizedPair], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--tokenized", "--adapter-out", dir + "/adapter",
                                        "--r", "4", "--alpha", "8", "--lr", "1e-2", "--batch-size", "2",
                                        "--max-steps", "5", "--eval", dir + "/pairs.jsonl", "--eval-every", "2"])
        #expect(run.error == nil, "\(String(describing: run.error))")
        let train = run.records.filter { $0["split"]?.string == "train" }
        let eval = run.records.filter { $0["split"]?.string == "eval" }
        #expect(train.map { $0["step"]?.int } == [1, 2, 3, 4, 5])
        #expect(eval.map { $0["step"]?.int } == [2, 4, 5])
        for record in train {
            for name in Self.metricNames { #expect(record[name] != nil, "\(name)") }
        }
        for name in ["loss", "nll_loss", "rewards/margins"] { #expect(eval[0][name] != nil, "\(name)") }
        let losses = train.compactMap { $0["loss"]?.double }
        #expect(losses.count == 5 && losses.last! < losses.first!)
        #expect(eval.last!["loss"]!.double! < eval.first!["loss"]!.double!)
        #expect(run.outcome?.skipped == 0)
    }

    /// Issue 20, item 5: an --adapter-out or --checkpoint-dir that cannot be written is refused
    /// before the first step, with the reason; the adapter is written under a temporary name and
    /// renamed, so nothing but the finished file is ever at its final name.
    @Test func unwritableOutputsAreRefusedBeforeTheFirstStep() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/pairs.jsonl")
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        try FileManager.default.createDirectory(atPath: dir + "/taken.tar.gz", withIntermediateDirectories: true)
        let common = [dir + "/pairs.jsonl", "--tokenized", "--r", "2", "--batch-size", "1", "--max-steps", "2"]
        for (arguments, fragment) in [
            (["--adapter-out", dir + "/file/adapter.tar.gz"], "file/adapter.tar.gz: cannot be written: cannot create the directory"),
            (["--adapter-out", dir + "/taken.tar.gz"], "taken.tar.gz: cannot be written: exists and is a directory"),
            (["--adapter-out", dir + "/ok", "--save-every", "1", "--checkpoint-dir", dir + "/file/ckpt"],
             "file/ckpt: checkpoints cannot be saved here: cannot create the directory"),
        ] {
            let run = try TinyTraining.run(common + arguments)
            #expect(run.records.isEmpty, "trained before refusing \(arguments)")
            #expect(run.error.map { "\($0)".contains(fragment) } == true, "\(String(describing: run.error))")
            #expect(run.error.map { "\($0)".contains("NSError") || "\($0)".contains("could not be completed") } == false)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/ok"))

        let run = try TinyTraining.run(common + ["--adapter-out", dir + "/new/adapter.tar.gz"])
        #expect(run.error == nil, "\(String(describing: run.error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/new") == ["adapter.tar.gz"])
    }

    /// An output that holds something else (a non-empty directory, an unrelated file) is refused
    /// before the first step and left as it was, unless --force; an earlier adapter (directory or
    /// archive) and an empty directory are replaced; the working directory never is.
    @Test func theOutputReplacesOnlyAnEarlierAdapter() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/pairs.jsonl")
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/project/src", withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: dir + "/project/NOTES.md"))
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir + "/keep.tar.gz"))
        try fm.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let common = [dir + "/pairs.jsonl", "--tokenized", "--r", "2", "--batch-size", "1", "--max-steps", "1"]

        for (output, fragment) in [
            (dir + "/project", "project: exists and is a directory that is not an adapter; refusing to replace it"),
            (dir + "/keep.tar.gz", "keep.tar.gz: exists and is a file that is not an adapter archive; refusing to replace it"),
        ] {
            let run = try TinyTraining.run(common + ["-o", output])
            #expect(run.records.isEmpty, "trained before refusing \(output)")
            #expect(run.error.map { "\($0)".contains(fragment) } == true, "\(String(describing: run.error))")
        }
        #expect(try fm.contentsOfDirectory(atPath: dir + "/project").sorted() == ["NOTES.md", "src"])
        #expect(try String(contentsOfFile: dir + "/keep.tar.gz", encoding: .utf8) == "keep me")

        // What orpo-train wrote before, and an empty directory, are replaced.
        for output in [dir + "/empty", dir + "/adapter", dir + "/adapter.tar.gz"] {
            for _ in 0..<2 {
                let run = try TinyTraining.run(common + ["-o", output])
                #expect(run.error == nil, "\(output): \(String(describing: run.error))")
            }
        }
        #expect(try fm.contentsOfDirectory(atPath: dir + "/empty").sorted() == ["adapter_config.json", "adapter_model.safetensors"])

        // --force replaces what is there.
        let forced = try TinyTraining.run(common + ["-o", dir + "/keep.tar.gz", "--force"])
        #expect(forced.error == nil, "\(String(describing: forced.error))")

        // The working directory (or one holding it) is never replaced: said as such, before the
        // question of what it holds (asked without --force, so that a broken check still refuses).
        let cwd = try TinyTraining.run(common + ["-o", fm.currentDirectoryPath])
        #expect(cwd.error.map { "\($0)".contains("is the working directory or holds it") } == true, "\(String(describing: cwd.error))")
    }

    @Test func logEveryAveragesOverTheInterval() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--tokenized", "--adapter-out", dir + "/adapter",
                                        "--r", "2", "--lr", "1e-3", "--batch-size", "1", "--epochs", "5", "--log-every", "2"])
        #expect(run.error == nil)
        #expect(run.records.map { $0["step"]?.int } == [2, 4, 5])
        #expect(run.records.map { $0["pairs"]?.int } == [2, 2, 1])
    }

    @Test func textAndChatPairsTrain() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([
            #"{"prompt": "hello bank?", "chosen": " yes.", "rejected": " no money."}"#,
            #"{"prompt": [{"role": "system", "content": "bank"}, {"role": "user", "content": "money?"}], "chosen": [{"role": "assistant", "content": "yes"}], "rejected": [{"role": "assistant", "content": "no"}]}"#,
        ], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--adapter-out", dir + "/adapter.tar.gz", "--r", "2",
                                        "--lr", "1e-3", "--batch-size", "2", "--max-steps", "2"])
        #expect(run.error == nil, "\(String(describing: run.error))")
        #expect(run.records.count == 2 && run.records[0]["pairs"]?.int == 2)
        #expect(FileManager.default.fileExists(atPath: dir + "/adapter.tar.gz"))
    }

    @Test func chatMessagesRenderAsGemmasTemplate() throws {
        let prompt = try ChatPairText.prompt(
            .array([.object(["role": "system", "content": "Be brief."]), .object(["role": "user", "content": "Hi"])]),
            field: "prompt")
        #expect(prompt == "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
        #expect(try ChatPairText.response(.array([.object(["role": "assistant", "content": "Hello"])]), field: "chosen")
            == "Hello<end_of_turn>\n")
        #expect(throws: PairInputError.self) {
            try ChatPairText.response(.array([.object(["role": "user", "content": "x"])]), field: "chosen")
        }
        #expect(throws: PairInputError.self) { try ChatPairText.prompt(.int(3), field: "prompt") }
    }

    /// Training renders a conversation as serving does: the one renderer, ChatTemplate, for
    /// developer messages, several system messages and further turns after the model's reply too.
    @Test func chatPairsUseTheServersRenderer() throws {
        func message(_ role: String, _ content: String) -> JSONValue { .object(["role": .string(role), "content": .string(content)]) }
        let conversation: [(String, String)] = [("developer", "Rules."), ("system", "Be brief."), ("user", "Hi")]
        let prompt = try ChatPairText.prompt(.array(conversation.map { message($0.0, $0.1) }), field: "prompt")
        #expect(prompt == (try ChatTemplate.render(conversation.map { ChatMessage(role: $0.0, content: $0.1) })))
        #expect(prompt == "<start_of_turn>user\nRules.\n\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
        let reply = try ChatPairText.response(.array([message("assistant", "Hello"), message("system", "Now French."),
                                                      message("user", "Merci")]), field: "chosen")
        #expect(reply == "Hello<end_of_turn>\n<start_of_turn>user\nNow French.\n\nMerci<end_of_turn>\n")
        let error = #expect(throws: PairInputError.self) {
            try ChatPairText.prompt(.array([message("narrator", "x")]), field: "prompt")
        }
        #expect("\(String(describing: error))".contains("unknown role 'narrator'"))
    }

    @Test func writtenAdapterReadsBackEqualToTheTrainedOne() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/pairs.jsonl")
        for out in [dir + "/adapter", dir + "/adapter.tar.gz"] {
            let run = try TinyTraining.run([dir + "/pairs.jsonl", "--tokenized", "--adapter-out", out, "--r", "4",
                                            "--targets", "q,v,down", "--lr", "1e-2", "--batch-size", "1", "--max-steps", "2"])
            let trained = try #require(run.outcome).adapter
            let read = try LoRAAdapter(PEFTAdapter.read(path: out, model: try TinyTraining.model().config))
            #expect(read.config.targetModules == ["q_proj", "v_proj", "down_proj"] && read.config.r == 4)
            #expect(TinyTraining.values(read) == TinyTraining.values(trained))
            #expect(TinyTraining.values(trained).contains { $0.contains { $0 != 0 } })
        }
    }

    /// The default dropout (0.05) is written to adapter_config.json and applied in training: two
    /// runs with one seed agree exactly, and differ from a run at --dropout 0.
    @Test func dropoutDefaultsToPointZeroFiveAndIsReproducible() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/pairs.jsonl")
        let common = [dir + "/pairs.jsonl", "--tokenized", "--r", "4", "--lr", "1e-2", "--batch-size", "1",
                      "--max-steps", "3"]
        let first = try TinyTraining.run(common + ["--adapter-out", dir + "/a"])
        let second = try TinyTraining.run(common + ["--adapter-out", dir + "/b"])
        let none = try TinyTraining.run(common + ["--adapter-out", dir + "/c", "--dropout", "0"])
        let config = try AdapterConfig.read(path: dir + "/a/adapter_config.json")
        #expect(config.loraDropout == OrpoTrainCommand.defaultDropout && config.loraDropout == 0.05)
        #expect(try AdapterConfig.read(path: dir + "/c/adapter_config.json").loraDropout == 0)
        let a = TinyTraining.values(try #require(first.outcome).adapter)
        #expect(a == TinyTraining.values(try #require(second.outcome).adapter))
        #expect(a != TinyTraining.values(try #require(none.outcome).adapter))
    }

    /// --pair-layout prefix trains pairs that begin with ten tokens alike to the shared layout's
    /// adapter and losses (without dropout).
    @Test func prefixLayoutTrainsAsTheSharedOne() throws {
        let dir = try TinyTraining.directory()
        let common = (40..<50).map(String.init).joined(separator: ",")
        let lines = (0..<4).map { i in
            #"{"prompt_input_ids":[2,\#(common),\#(10 + i)],"chosen_input_ids":[2,\#(common),\#(10 + i),20,\#(21 + i),1],"rejected_input_ids":[2,\#(common),\#(10 + i),30,1]}"#
        }
        try TinyTraining.write(lines, to: dir + "/pairs.jsonl")
        // These pairs do take the prefix layout (a fallback to shared would pass the rest unseen).
        let pairs = (0..<4).map { i in
            let prompt = [2] + Array(40..<50) + [10 + i], chosen = prompt + [20, 21 + i, 1], rejected = prompt + [30, 1]
            return TokenizedPair(promptIDs: prompt, chosenIDs: chosen, chosenLabels: chosen.indices.map { $0 < prompt.count ? -100 : chosen[$0] },
                                 rejectedIDs: rejected, rejectedLabels: rejected.indices.map { $0 < prompt.count ? -100 : rejected[$0] })
        }
        #expect(try PreferenceBatch(pairs: pairs, padID: 0, layout: .prefix).layout == .prefix)
        let base = [dir + "/pairs.jsonl", "--tokenized", "--r", "4", "--lr", "1e-2", "--batch-size", "4",
                    "--max-steps", "3", "--dropout", "0"]
        let shared = try TinyTraining.run(base + ["--adapter-out", dir + "/shared", "--pair-layout", "shared"])
        let prefix = try TinyTraining.run(base + ["--adapter-out", dir + "/prefix", "--pair-layout", "prefix"])
        #expect(prefix.error == nil, "\(String(describing: prefix.error))")
        let a = TinyTraining.values(try #require(shared.outcome).adapter)
        let b = TinyTraining.values(try #require(prefix.outcome).adapter)
        var worst: Float = 0
        for (x, y) in zip(a.joined(), b.joined()) { worst = max(worst, abs(x - y)) }
        #expect(a.count == b.count && worst < 1e-4, "adapters differ by \(worst)")
        let losses = { (r: TinyTraining.Run) in r.records.filter { $0["split"]?.string == "train" }.compactMap { $0["loss"]?.double } }
        #expect(losses(shared).count == 3)
        for (x, y) in zip(losses(shared), losses(prefix)) { #expect(abs(x - y) < 1e-5 * max(1, abs(x)), "\(x) against \(y)") }
    }

    /// 6 steps straight, and 3 steps, a stop, a resume and 3 more, end with the same adapter: the
    /// checkpoint sits mid-epoch, after warmup, with two micro-batches per step.
    @Test func resumingFromACheckpointMatchesAnUninterruptedRun() throws {
        let dir = try TinyTraining.directory()
        let lines = (0..<5).map { i in
            #"{"prompt_input_ids":[2,\#(10 + i),11],"chosen_input_ids":[2,\#(10 + i),11,\#(20 + i),21,1],"rejected_input_ids":[2,\#(10 + i),11,\#(30 + i),1]}"#
        }
        try TinyTraining.write(lines, to: dir + "/pairs.jsonl")
        let common = [dir + "/pairs.jsonl", "--tokenized", "--r", "4", "--lr", "5e-3", "--batch-size", "1",
                      "--grad-accum", "2", "--epochs", "2", "--warmup-steps", "2", "--seed", "7"]
        let straight = try TinyTraining.run(common + ["--adapter-out", dir + "/straight"])
        #expect(straight.records.count == 6)
        let checkpoints = dir + "/checkpoints"
        let first = try TinyTraining.run(common + ["--adapter-out", dir + "/first", "--save-every", "3",
                                                  "--checkpoint-dir", checkpoints], stopAfter: 4)
        #expect(first.error is TinyTraining.Interrupted)
        #expect(TrainingCheckpoint.latest(in: checkpoints) == checkpoints + "/checkpoint-3")
        let resumed = try TinyTraining.run(common + ["--adapter-out", dir + "/resumed", "--save-every", "3",
                                                    "--checkpoint-dir", checkpoints, "--resume"])
        #expect(resumed.error == nil, "\(String(describing: resumed.error))")
        #expect(resumed.records.map { $0["step"]?.int } == [4, 5, 6])
        #expect(resumed.messages.contains { $0.contains("resuming from") && $0.contains("step 3") })
        let a = TinyTraining.values(try #require(straight.outcome).adapter)
        let b = TinyTraining.values(try #require(resumed.outcome).adapter)
        #expect(a.count == b.count)
        let worst = zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
        #expect(worst <= 1e-6)
        for (s, r) in zip(straight.records.suffix(3), resumed.records) {
            #expect(s["loss"]?.double == r["loss"]?.double)
            #expect(s["epoch"]?.double == r["epoch"]?.double)
        }
    }

    @Test func resumeWithOtherDataIsRefused() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([Self.tokenizedPair, Self.tokenizedPair], to: dir + "/a.jsonl")
        try TinyTraining.write([Self.tokenizedPair], to: dir + "/b.jsonl")
        let flags = ["--tokenized", "--r", "2", "--batch-size", "1", "--max-steps", "2", "--save-every", "1",
                     "--checkpoint-dir", dir + "/ck", "--adapter-out", dir + "/out"]
        _ = try TinyTraining.run([dir + "/a.jsonl"] + flags)
        let again = try TinyTraining.run([dir + "/b.jsonl", "--resume"] + flags)
        #expect("\(String(describing: again.error))".contains("cannot resume"))
    }

    @Test func badPairsAreReportedWithTheirLineAndSkipped() throws {
        let dir = try TinyTraining.directory()
        let long = String(repeating: "bank ", count: 40)
        try TinyTraining.write([
            #"{"prompt": "hello?", "chosen": " yes.", "rejected": " no."}"#,
            #"{"prompt": "hello?", "chosen": "", "rejected": " no."}"#,
            #"{"prompt": "hello?", "rejected": " no."}"#,
            #"{"prompt": "\#(long)", "chosen": " yes.", "rejected": " no."}"#,
            "{not json",
            #"{"prompt": "hello?", "chosen": 3, "rejected": " no."}"#,
        ], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--adapter-out", dir + "/out", "--r", "2",
                                        "--max-length", "64", "--max-prompt-length", "32", "--long-pairs", "skip",
                                        "--batch-size", "1", "--max-steps", "1"])
        #expect(run.error == nil, "\(String(describing: run.error))")
        #expect(run.outcome?.skipped == 5)
        let errors = run.messages.filter { $0.hasPrefix("orpo-train: error:") }
        #expect(errors.count == 5)
        for (line, text) in [(2, "'chosen': is empty"), (3, "'chosen': missing"), (4, "too long"), (5, "not a JSON object"),
                             (6, "'chosen'")] {
            #expect(errors.contains { $0.contains(text) && $0.hasSuffix("pairs.jsonl:line \(line))") }, "line \(line)")
        }
        #expect(run.messages.contains { $0.contains("skipped 5 of 6 training pairs") })
    }

    @Test func longPairsAreTruncatedAndCounted() throws {
        let dir = try TinyTraining.directory()
        let long = String(repeating: "bank ", count: 40)
        try TinyTraining.write([#"{"prompt": "\#(long)", "chosen": " yes.", "rejected": " no."}"#], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--adapter-out", dir + "/out", "--r", "2",
                                        "--max-length", "20", "--max-prompt-length", "12", "--batch-size", "1", "--max-steps", "1"])
        #expect(run.error == nil && run.outcome?.skipped == 0)
        #expect(run.messages.contains { $0.contains("truncated 1 pairs") })
        #expect(run.records.first.flatMap { $0["tokens"]?.int }.map { $0 <= 40 } == true)
    }

    @Test func noUsablePairsIsFatal() throws {
        let dir = try TinyTraining.directory()
        try TinyTraining.write([#"{"prompt": "x"}"#], to: dir + "/pairs.jsonl")
        let run = try TinyTraining.run([dir + "/pairs.jsonl", "--adapter-out", dir + "/out"])
        #expect("\(String(describing: run.error))".contains("no usable training pairs"))
    }

    @Test func dropoutOutOfRangeIsRefusedAndUsageIsChecked() {
        for p in ["1", "-0.1", "1.5"] {
            #expect(throws: (any Error).self) { try OrpoTrainCommand.parse(["--adapter-out", "x", "--dropout", p]) }
        }
        #expect((try? OrpoTrainCommand.parse(["--adapter-out", "x", "--dropout", "0.1"])) != nil)
        #expect(throws: (any Error).self) { try OrpoTrainCommand.parse(["--adapter-out", "x", "--resume"]) }
        #expect(throws: (any Error).self) { try OrpoTrainCommand.parse([]) }
    }

    @Test func flagsOverrideTheConfigFile() throws {
        let dir = try TinyTraining.directory()
        try #"{"beta": 0.3, "learning_rate": 5e-5, "batch_size": 4, "max_steps": 9, "max_prompt_length": 100}"#
            .write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let command = try OrpoTrainCommand.parse(["--adapter-out", "x", "--config", dir + "/c.json", "--lr", "1e-4"])
        let (s, plan, promptLimit) = try command.resolvedSettings()
        #expect(s.beta == 0.3 && s.learningRate == 1e-4 && s.batchSize == 4 && s.maxLength == 1024)
        #expect(plan.maxSteps == 9 && promptLimit == 100)
        try #"{"batch_size": "four"}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try OrpoTrainCommand.parse(["--adapter-out", "x", "--config", dir + "/bad.json"])
        #expect(throws: TrainingError.self) { try bad.resolvedSettings() }
        #expect(throws: (any Error).self) { try OrpoTrainCommand.parse(["--adapter-out", "x", "--targets", "q,zz"]).targetModules() }
    }
}
