import Foundation
import Inference
import Training

/// The default model as the setup installs it. Tests on it run when it is present; under CI
/// (`CI` set) its absence is a failure, not a skip, since the setup installs it there.
enum RealModel {
    static var path: String { DefaultModel.path }

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: path) || ProcessInfo.processInfo.environment["CI"] != nil
    }
}

/// The reference fixtures of one ORPO batch through TRL + PEFT (Fixtures/orpo/README.md,
/// Fixtures/orpo-chat/README.md).
enum ORPOFixture {
    static var directory: String { directory("orpo") }
    static func directory(_ name: String) -> String { Bundle.module.resourcePath! + "/Fixtures/" + name }

    struct Expected: Decodable {
        let beta: Double
        let max_length: Int
        let loss: Double
        let metrics: [String: Double]
        let tokenized: [TokenizedPair]  // TRL's field names
    }

    static func expected(_ name: String = "orpo") throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: directory(name) + "/expected.json")))
    }
}
