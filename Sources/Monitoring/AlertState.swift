import Foundation
import Records

/// The state of one rule for one group of windows, saved in the state file so that alerts (above all
/// manual ones) survive restarts of a streaming pipeline.
public struct AlertGroupState: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable {
        case inactive, suspected, detected
    }

    public var group: JSONValue = .object(JSONObject())
    public var status: Status = .inactive
    /// Event time (window end, Unix seconds) the current status began.
    public var since: Double? = nil
    /// Event time of the last detected or suspected event, for the cooldown.
    public var lastFired: Double? = nil
    /// Window ends of recent bad windows (within the rule's period).
    public var badWindows: [Double] = []
    /// Consecutive bad windows (rules without a period).
    public var consecutiveBad = 0
    public var detector = ChangeDetectorState()
    /// The severity and metric of the rule when its alert last fired, so that a manual reset (which
    /// may be given no rules) reports them as the alert said them; nil in older state files.
    public var severity: String? = nil
    public var metric: String? = nil

    enum CodingKeys: String, CodingKey {
        case group, status, since, lastFired = "last_fired", badWindows = "bad_windows"
        case consecutiveBad = "consecutive_bad", detector, severity, metric
    }

    public init(group: JSONValue) { self.group = group }
}

/// All rules' states, keyed by rule name and then by the group's JSON text.
public struct AlertStateFile: Codable, Equatable, Sendable {
    public var rules: [String: [String: AlertGroupState]] = [:]

    public init() {}

    /// Loads the state file; a missing file is an empty state, a corrupt one is an error naming it.
    public static func load(path: String) throws -> AlertStateFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return AlertStateFile() }
        guard !isDirectory.boolValue else {
            throw FatalError("state file \(path) is a directory; give a file path (a missing file starts an empty state)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FatalError("state file \(path) cannot be read: \(SystemErrorText.reason(error))")
        }
        do {
            return try JSONParser.parse(bytes: [UInt8](data)).decode(AlertStateFile.self)
        } catch {
            throw FatalError("state file \(path) is corrupt (\(error)); move it away to start afresh")
        }
    }

    /// Saves atomically, so that a crash never leaves half a state file.
    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(self)
        try replaceFileAtomically(path, with: String(decoding: data, as: UTF8.self) + "\n")
    }
}
