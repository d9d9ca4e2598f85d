import CommandLineTool
import Foundation

/// The default model as the setup installs it (`DefaultModel.path`, the tools' own default), for
/// the tests that run on it.
public enum RealModel {
    public static var path: String { DefaultModel.path }

    /// The file is there.
    public static var isInstalled: Bool { FileManager.default.fileExists(atPath: path) }

    /// Tests on the real model run: it is installed, or this is CI (`CI` set), where the setup
    /// installs it, so that its absence fails the tests instead of skipping them.
    public static var isAvailable: Bool { isInstalled || ProcessInfo.processInfo.environment["CI"] != nil }
}
