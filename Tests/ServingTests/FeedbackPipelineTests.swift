import Foundation
import HTTPClient
import Records
import TestSupport
import Testing

/// Issue 22, item 1: feedback is a first-class signal. Served answers are rated (thumbs, 1-5, 0-1,
/// with comments and corrections), ratings are joined to the answers they rate (also across a
/// restart), refused requests are logged, and `judge | score-window | drift-alert` and orpo-pairs
/// account for every record of the log.
@Suite(.serialized) struct FeedbackPipelineTests {
    static func post(_ server: ServeProcess, _ path: String, _ body: String) async throws -> (status: Int, json: JSONObject?) {
        let request = HTTPRequest.postJSON(url: server.baseURL + path, body: Array(body.utf8), timeout: 300)
        let response = try await offCooperativePool { try HTTPClient().perform(request) }
        return (response.status, (try? JSONParser.parse(response.text))?.object)
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func ratingsJoinTheirAnswersAndFeedTheMonitors() async throws {
        let scratch = try TemporaryDirectory()
        let log = scratch.file("traffic.jsonl")
        var ids: [String] = []
        let questions = ["the cat", "say hi", "the user is", "hi the cat"]
        do {
            let server = try ServeProcess(model: try TinyServingModel.path(), log: log)
            for q in questions {
                let r = try await Self.post(server, "/chat/completions",
                                            #"{"messages":[{"role":"user","content":"\#(q)"}],"max_tokens":3,"temperature":0,"metadata":{"topic":"banking"}}"#)
                try #require(r.status == 200)
                ids.append(try #require(r.json?["id"]?.string))
            }
            let ratings = [
                #"{"id":"\#(ids[0])","rating":"up"}"#,
                #"{"id":"\#(ids[1])","rating":"down","comment":"wrong","correction":"Call the bank at once."}"#,
                #"{"id":"\#(ids[2])","score":5}"#,
                #"{"id":"\#(ids[3])","score":1,"correction":"Your card can be frozen in the app."}"#,
            ]
            for body in ratings {
                let r = try await Self.post(server, "/feedback", body)
                #expect(r.status == 200, "\(body): \(r.json ?? [:])")
                #expect(r.json?["feedback_id"]?.string?.hasPrefix("fb-") == true)
            }
            let unknown = try await Self.post(server, "/feedback", #"{"id":"chatcmpl-never","rating":"up"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"]?["param"]?.string == "id")
            let sideways = try await Self.post(server, "/feedback", #"{"id":"\#(ids[0])","rating":"sideways"}"#)
            #expect(sideways.status == 400)
            #expect(sideways.json?["error"]?["param"]?.string == "rating")
            server.stop()
        }
        // A restarted server finds the answers of the earlier run in its log; its flag sets the
        // scale of a score that names none.
        do {
            let server = try ServeProcess(model: try TinyServingModel.path(), arguments: ["--feedback-scale", "0-1"], log: log)
            let r = try await Self.post(server, "/feedback", #"{"id":"\#(ids[0])","score":0.2,"correction":"Use the app."}"#)
            #expect(r.status == 200, "\(r.json ?? [:])")
            let outOfScale = try await Self.post(server, "/feedback", #"{"id":"\#(ids[0])","score":4}"#)
            #expect(outOfScale.status == 400)
            server.stop()
        }

        let logLines = try Self.lines(log)
        let records = try logLines.map { try #require(try JSONParser.parse($0).object) }
        let answers = records.filter { $0["type"] == nil }
        let feedback = records.filter { $0["type"]?.string == "feedback" }
        let rejected = records.filter { $0["type"]?.string == "rejected" }
        #expect(answers.count == 4)
        #expect(feedback.count == 5)
        #expect(rejected.map { $0["status"]?.int } == [404, 400, 400], "every refused request is logged with its status")
        #expect(rejected[0]["error"]?["code"]?.string == "unknown_id")
        for f in feedback {
            let answer = try #require(answers.first { $0["id"] == f["id"] })
            for field in ["question", "answer", "model", "metadata"] { #expect(f[field] == answer[field], "\(field)") }
            #expect(f["answer_ts"] == answer["ts"])
        }
        #expect(feedback.map { $0["user_pass"]?.bool } == [true, false, true, false, false])
        #expect(feedback.map { $0["scale"]?.string } == ["thumbs", "thumbs", "1-5", "1-5", "0-1"])

        // judge: answers judged, feedback and rejected requests written through untouched.
        let judged = try await runTool("judge", ["--check", "no_pii"], stdin: logLines.joined(separator: "\n") + "\n")
        #expect(judged.status == 0, "\(judged.stderr)")
        let judgedLines = judged.stdout.split(separator: "\n").map(String.init)
        try #require(judgedLines.count == logLines.count)
        for (input, output) in zip(logLines, judgedLines) where input.contains(#""type":"#) {
            #expect(input == output)
        }
        #expect(judged.stderr.contains("passed through (feedback, rejected requests) 8"), "\(judged.stderr)")

        // The judge against the users: with their ratings as the labels, the feedback records are judged.
        let calibrated = try await runTool("judge", ["--check", "no_pii", "--calibrate", "--label-field", "user_pass"],
                                           stdin: logLines.joined(separator: "\n") + "\n")
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        let report = try #require(try JSONParser.parse(calibrated.stdout).object?["calibration"]?.object)
        #expect(report["compared"]?.int == 5)
        #expect(report["accuracy"]?.double == 0.4, "no_pii passes every answer; the users passed 2 of 5")

        // score-window: one window; the ratings' pass rate follows each scale.
        let windowed = try await runTool("score-window", ["--origin", "start", "--period", "1d"], stdin: judged.stdout)
        #expect(windowed.status == 0, "\(windowed.stderr)")
        let window = try #require(try JSONParser.parse(String(windowed.stdout.split(separator: "\n")[0])).object)
        #expect(window["count"]?.int == 4)
        #expect(window["rejected"]?.int == 3)
        #expect(window["rejected_rate"]?.double == 3.0 / 7.0)
        let user = try #require(window["metrics"]?["user_feedback"]?.object)
        #expect(user["n"]?.int == 5)
        #expect(user["pass_rate"]?.double == 0.4)
        #expect(abs((user["mean"]?.double ?? 0) - 0.44) < 1e-12)
        #expect(window["metrics"]?["no_pii"]?["n"]?.int == 4)

        // drift-alert watches the users' pass rate: detected, exit 1 as documented.
        let rules = scratch.file("rules.json")
        try #"{"rules":[{"name":"users_unhappy","metric":"metrics.user_feedback.pass_rate","comparison":"<","threshold":0.5}]}"#
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let alerted = try await runTool("drift-alert", ["--config", rules], stdin: windowed.stdout)
        #expect(alerted.status == 1, "\(alerted.stderr)")
        #expect(alerted.stdout.contains("users_unhappy"))

        // orpo-pairs: each low rating becomes a pair, the user's correction chosen, the rated answer rejected.
        let judgedPath = scratch.file("judged.jsonl")
        try judged.stdout.write(toFile: judgedPath, atomically: true, encoding: .utf8)
        let pairsPath = scratch.file("pairs.jsonl")
        let paired = try await runTool("orpo-pairs", [judgedPath, "--metric", "no_pii", "--topic-field", "metadata.topic",
                                                       "--no-shuffle", "-o", pairsPath])
        #expect(paired.status == 0, "\(paired.stderr)")
        let pairs = try Self.lines(pairsPath).map { try #require(try JSONParser.parse($0).object) }
        #expect(pairs.count == 3)
        #expect(pairs.allSatisfy { $0["source"]?.string == "feedback" && $0["chosen_from"]?.string == "user_correction" })
        #expect(Set(pairs.compactMap { $0["chosen"]?.string }) == ["Call the bank at once.", "Your card can be frozen in the app.", "Use the app."])
        for pair in pairs {
            let answer = try #require(answers.first { $0["id"] == pair["source_id"] })
            #expect(pair["rejected"] == answer["answer"])
            #expect(pair["prompt"] == answer["question"])
        }
    }
}
