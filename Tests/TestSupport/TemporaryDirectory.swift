import Foundation
import Records

/// A scratch directory removed when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "feedbackloop-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, lines: [String]) throws -> String {
        let target = file(name)
        try (lines.joined(separator: "\n") + "\n").write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    @discardableResult
    public func write(_ name: String, records: [JSONObject]) throws -> String {
        try write(name, lines: records.map { JSONSerializer.string(.object($0)) })
    }

    public func records(_ name: String) throws -> [JSONObject] {
        let text = try String(contentsOfFile: file(name), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONParser.parse(String(line)).object else { throw RecordError("not an object: \(line)") }
            return object
        }
    }
}
