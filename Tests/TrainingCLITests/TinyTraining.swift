import CommandLineTool
import Foundation
import Gemma
import Records
import TensorKit
import TestSupport
import Tokenizers
import Training
@testable import TrainingCLI

/// The tiny Gemma 3 checkpoint (vocabulary 128, hidden 32, 6 layers), a small SentencePiece
/// vocabulary built here to tokenise text pairs for it, and helpers that run orpo-train in-process.
enum TinyTraining {
    static let pool = try! ComputePool(threads: 2)
    static let modelPath = SharedFixtures.path("tiny-gemma3")

    static func model() throws -> GemmaModel {
        try ModelLoader.loadModel(path: modelPath, pool: pool, precision: .exact)
    }

    /// Gemma's special ids (pad 0, eos 1, bos 2, unk 3), its turn markers, single characters and a
    /// few whole words with higher scores, so that merges happen as in a real vocabulary.
    static func tokenizer() throws -> SentencePieceTokenizer {
        let special = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
        let characters = ["\u{2581}", "\n", "?", "."] + "abcdefghijklmnopqrstuvwxyz".map(String.init)
        let words = ["\u{2581}yes", "\u{2581}no", "\u{2581}bank", "\u{2581}money", "hello", "user", "model"]
        let tokens = special + characters + words
        let scores = special.map { _ in Float(0) } + characters.map { _ in Float(-10) } + words.map { _ in Float(-1) }
        let types = special.enumerated().map { Int32($0.offset == 3 ? 2 : 3) } + (characters + words).map { _ in Int32(1) }
        return try SentencePieceTokenizer(tokens: tokens, scores: scores, types: types, bosID: 2, eosID: 1,
                                          unknownID: 3, padID: 0, addBOS: true, addSpacePrefix: false)
    }

    static func preferenceTokenizer() throws -> PreferenceTokenizer {
        PreferenceTokenizer(tokenizer: try tokenizer(), bosID: 2, eosID: 1, maxLength: Int.max / 4)
    }

    /// A fresh temporary directory.
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("orpo-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        removeAtExit(path)
        return path
    }

    static func write(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    struct Run {
        var records: [JSONObject] = []
        var messages: [String] = []
        var outcome: OrpoTrainCommand.Outcome?
        var error: Error?
    }

    /// Parses `arguments` as orpo-train's and runs it on the tiny model, with the test tokenizer
    /// unless `--tokenized` is given. `stopAfter` throws from the record sink once a record of that
    /// step arrives, as a run killed there would stop.
    static func run(_ arguments: [String], stopAfter: Int? = nil) throws -> Run {
        let command = try OrpoTrainCommand.parse(arguments + ["--model", modelPath])
        var result = Run()
        let diagnostics = Diagnostics(tool: "orpo-train") { result.messages.append($0) }
        let (settings, plan, promptLimit) = try command.resolvedSettings()
        do {
            result.outcome = try OrpoTrainCommand.train(
                model: try model(), modelPath: modelPath, tokenizer: command.tokenized ? nil : try preferenceTokenizer(),
                settings: settings, plan: plan, promptLimit: promptLimit, command: command, pool: pool,
                diagnostics: diagnostics) { record in
                    if let stopAfter, record["split"]?.string == "train", let step = record["step"]?.int, step > stopAfter {
                        throw Interrupted()
                    }
                    result.records.append(record)
                }
        } catch {
            result.error = error
        }
        return result
    }

    struct Interrupted: Error {}

    /// Every factor of an adapter, module by module.
    static func values(_ adapter: LoRAAdapter) -> [[Float]] {
        adapter.modules.flatMap { [$0.parameters.a.array, $0.parameters.b.array] }
    }
}
