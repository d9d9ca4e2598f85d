import Foundation
import Records
import Training

/// A `--config` file: ORPOTrainingSettings' keys (snake_case, TRL's names) plus the run's own
/// `max_prompt_length`, `max_steps` and `warmup_steps`. Flags given on the command line override it.
struct RunSettingsFile: Decodable {
    var settings: ORPOTrainingSettings
    var maxPromptLength: Int?
    var maxSteps: Int?
    var warmupSteps: Int?

    enum CodingKeys: String, CodingKey {
        case maxPromptLength = "max_prompt_length", maxSteps = "max_steps", warmupSteps = "warmup_steps"
    }

    init(from decoder: Decoder) throws {
        settings = try ORPOTrainingSettings(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxPromptLength = try c.decodeIfPresent(Int.self, forKey: .maxPromptLength)
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
    }

    static func read(path: String) throws -> RunSettingsFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.data(source: path, message: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONDocument.decode(RunSettingsFile.self, from: data) } catch {
            throw TrainingError.data(source: path, message: error.message)
        }
    }
}
