import Foundation
import Hashing
import Records

/// A content-addressed store of backend replies on disk: the key is the SHA-256 of the prompt, the
/// model and every parameter that changes the reply, the value the reply itself.
///
/// So a rerun of the same judge on the same records sends nothing, a run cut short resumes where it
/// stopped (every reply is stored the moment it arrives), and replaying an older judge version reads
/// its stored replies back for a diff. Entries live at `DIR/ab/abcdef….json`, written to a temporary
/// file and renamed, so a crash never leaves half an entry and concurrent writers of the same key are
/// harmless (both write the same content).
public final class JudgeCache: @unchecked Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw JudgeError.backendUnavailable("cannot create the cache directory \(directory): \(error.localizedDescription)")
        }
    }

    /// The key of one backend call.
    public static func key(prompt: JudgePrompt, model: String, parameters: JSONObject, request: BackendRequest) -> String {
        var material: JSONObject = [
            "prompt": prompt.json, "model": .string(model), "parameters": .object(parameters),
            "scale": .array(request.scale.labels.map { .string($0) }),
            "logprobs": .bool(request.wantsLogprobs), "explanation": .bool(request.wantsExplanation),
        ]
        if request.scoreTokensOnly { material["score_tokens_only"] = true }
        return SHA256.hash(JSONSerializer.string(.object(material))).hex
    }

    private func path(_ key: String) -> String {
        "\(directory)/\(key.prefix(2))/\(key).json"
    }

    /// The stored reply, or nil (absent or unreadable: a damaged entry is a miss and gets rewritten).
    public func reply(forKey key: String) -> BackendReply? {
        guard let data = FileManager.default.contents(atPath: path(key)),
              let object = (try? JSONParser.parse(bytes: [UInt8](data)))?.object else { return nil }
        return BackendReply(json: object)
    }

    /// Stores a reply. A failure to write is reported by the throw but loses only the caching.
    public func store(_ reply: BackendReply, forKey key: String) throws {
        let final = path(key)
        let folder = (final as NSString).deletingLastPathComponent
        let temporary = "\(final).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(JSONSerializer.string(.object(reply.json)).utf8).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, final) != 0 {
                let code = errno
                try? FileManager.default.removeItem(atPath: temporary)
                throw JudgeError.backendUnavailable("cannot rename \(temporary) to \(final): \(String(cString: strerror(code)))")
            }
        } catch let error as JudgeError {
            throw error
        } catch {
            throw JudgeError.backendUnavailable("cannot write the cache entry \(final): \(error.localizedDescription)")
        }
    }
}
