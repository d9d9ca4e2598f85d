import Adapters
import Foundation
import ModelFormats
import Records
import Training

// Checkpoints in the spirit of HF Trainer's checkpoint-N directories: the adapter (PEFT), the
// optimizer state and the trainer state, written into a temporary directory and renamed into
// place, so that a run killed while saving leaves the previous checkpoint intact.

/// Where a run stands after `step` optimizer steps: enough to continue it exactly.
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// Optimizer steps taken.
    public var step: Int
    /// Epochs completed.
    public var epoch: Int
    /// Steps taken within the current epoch.
    public var stepInEpoch: Int
    /// The current epoch's order of pair indices.
    public var order: [Int]
    /// The data-order generator's state: it is SeededGenerator(seed) after `shuffles` shuffles of
    /// `pairCount` indices (one per epoch started), so it is stored as those two numbers.
    public var seed: UInt64
    public var shuffles: Int
    /// What the run was started with; a resume with other data or settings is refused.
    public var pairCount: Int
    public var dataFingerprint: UInt64
    public var totalSteps: Int
    public var batchSize: Int
    public var gradientAccumulationSteps: Int

    enum CodingKeys: String, CodingKey {
        case step, epoch, stepInEpoch = "step_in_epoch", order, seed, shuffles, pairCount = "pair_count"
        case dataFingerprint = "data_fingerprint", totalSteps = "total_steps", batchSize = "batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps"
    }

    /// FNV-1a over every token id and label of `pairs`, in order.
    public static func fingerprint(_ pairs: [TokenizedPair]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: Int) {
            var x = UInt64(bitPattern: Int64(v))
            for _ in 0..<8 {
                h = (h ^ (x & 0xFF)) &* 0x100_0000_01B3
                x >>= 8
            }
        }
        for p in pairs {
            for list in [p.chosenIDs, p.chosenLabels, p.rejectedIDs, p.rejectedLabels] {
                mix(list.count)
                list.forEach(mix)
            }
        }
        return h
    }
}

/// One saved checkpoint: `checkpoint-<step>/` with `adapter/`, `optimizer.bin` (the AdamW step's
/// first then second moments as little-endian float32) and `trainer_state.json`.
public enum TrainingCheckpoint {
    public static let prefix = "checkpoint-"

    /// Checks before a run that checkpoints can be saved in `directory` (created when missing).
    public static func checkWritable(_ directory: String) throws {
        do { try OutputLocation.checkWritable(directory, inside: true) } catch let ModelFormatError.io(_, message) {
            throw TrainingError.data(source: directory, message: "checkpoints cannot be saved here: \(message)")
        }
    }

    /// Saves the adapter, the optimizer and `progress` under `directory`, atomically.
    public static func save(adapter: LoRAAdapter, optimizer: AdamW, progress: TrainingProgress,
                            in directory: String) throws {
        let fm = FileManager.default
        let final = directory + "/" + prefix + String(progress.step)
        let temp = directory + "/.tmp-" + prefix + String(progress.step) + "-" + UUID().uuidString
        do {
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            try PEFTAdapter.write(adapter.peftAdapter, to: temp + "/adapter")
            let m = optimizer.moments
            try Data(floatBytes(m.first + m.second)).write(to: URL(fileURLWithPath: temp + "/optimizer.bin"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(progress).write(to: URL(fileURLWithPath: temp + "/trainer_state.json"))
            if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
            guard rename(temp, final) == 0 else { throw SystemError(operation: "rename \(temp) to \(final)", code: errno) }
        } catch {
            try? fm.removeItem(atPath: temp)
            throw TrainingError.data(source: final, message: "cannot save the checkpoint: \(OutputLocation.reason(error))")
        }
    }

    /// The checkpoint with the highest step in `directory`, if any.
    public static func latest(in directory: String) -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let steps = entries.compactMap { name -> Int? in
            guard name.hasPrefix(prefix),
                  FileManager.default.fileExists(atPath: directory + "/" + name + "/trainer_state.json") else { return nil }
            return Int(name.dropFirst(prefix.count))
        }
        return steps.max().map { directory + "/" + prefix + String($0) }
    }

    /// Reads a checkpoint's progress.
    public static func progress(at path: String) throws -> TrainingProgress {
        let file = path + "/trainer_state.json"
        do {
            return try JSONParser.parse(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))).decode(TrainingProgress.self)
        } catch {
            throw TrainingError.data(source: file, message: "not a readable trainer state: \(error)")
        }
    }

    /// Sets `optimizer`'s moments and step from the checkpoint at `path`.
    public static func restore(_ optimizer: AdamW, from path: String, step: Int) throws {
        let file = path + "/optimizer.bin"
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw TrainingError.data(source: file, message: "cannot read: \(error.localizedDescription)")
        }
        let total = optimizer.parameterCounts.reduce(0, +)
        guard data.count == 8 * total else {
            throw TrainingError.data(source: file, message: "\(data.count) bytes; the adapter's moments need \(8 * total)")
        }
        let values = data.withUnsafeBytes { raw in
            (0..<(2 * total)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        try optimizer.restore(step: step, first: Array(values[..<total]), second: Array(values[total...]))
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values {
            let b = v.bitPattern.littleEndian
            bytes.append(contentsOf: [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)])
        }
        return bytes
    }
}
