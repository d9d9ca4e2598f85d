import Foundation
import Inference

/// Whether the loop can run on the real default model: it is installed, or CI promises it (where a
/// missing model must fail loudly rather than skip), as the other suites on the real model decide.
enum RealModelFile {
    static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || FileManager.default.fileExists(atPath: DefaultModel.path)
    }
}
