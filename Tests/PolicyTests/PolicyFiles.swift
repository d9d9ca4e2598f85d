import Foundation
import Records

/// The repository root: this file is Tests/PolicyTests/PolicyFiles.swift.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The bank's policy file.
let bankingPolicyPath = repositoryRoot + "/examples/banking/policy.json"

/// A judged record as `judge` writes it on a labelled split.
func judged(_ topic: String?, answer: String, pass: Bool, status: String = "ok", metric: String = "restrict_to_banking") -> JSONObject {
    var record: JSONObject = ["question": "q"]
    if let topic { record["topic"] = .string(topic) }
    record["answer"] = .string(answer)
    record[metric] = ["score": pass ? 1 : 0, "status": .string(status), "pass": .bool(pass)]
    return record
}
