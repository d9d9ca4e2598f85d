import Foundation
import Inference
import Training

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
