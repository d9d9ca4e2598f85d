import Foundation
import HTTPClient
import Records
import TestSupport
import Testing
@testable import Judging

/// Decomposed judges: the `nodes` and `rule` of a config, optional template sections, the verdict's
/// per-node output, training pairs per node, and the HTTP backend asked once per node.
@Suite struct NodeJudgeTests {
    // MARK: Config

    @Test func readsTheShippedNodeConfig() throws {
        let config = try Fixture.judge("restrict-to-banking-nodes.json")
        #expect(config.name == "restrict_to_banking")
        #expect(config.nodes.map(\.name) == ["topic", "declined", "correct"])
        #expect(config.nodes.allSatisfy { $0.scores == ["0", "1"] && $0.passThreshold == 0.5 })
        #expect(config.node("topic")?.requiredFields == ["question"])
        #expect(config.node("declined")?.requiredFields == ["question", "answer"])
        #expect(config.node("correct")?.requiredFields == ["question", "answer"])
        #expect(config.node("correct")?.optionalFields == ["reference"])
        #expect(config.rule == .ifThenElse(.node("topic"), .all([.not(.node("declined")), .node("correct")]), .node("declined")))
        #expect(config.localAdapter == nil)
    }

    func field(_ json: String) -> String? {
        do {
            guard let object = try JSONParser.parse(json).object else { return nil }
            _ = try JudgeConfig(json: object, source: "nodes.json")
            return nil
        } catch let JudgeError.invalidConfig(source, field, _) {
            return source == "nodes.json" ? field : nil
        } catch {
            return nil
        }
    }

    /// A config with `nodes` and `rule` spliced in.
    func config(nodes: String = #"{"a": {"template": "Q: {question}"}, "b": {"template": "A: {answer}"}}"#,
                rule: String? = #"{"all": ["a", "b"]}"#, extra: String = "") -> String {
        #"{"name": "m", "grading_type": "custom", "nodes": \#(nodes)"# + (rule.map { #", "rule": \#($0)"# } ?? "") + extra + "}"
    }

    @Test func aWellFormedNodeConfigLoads() {
        #expect(field(config()) == nil)
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "scores": ["1", "0"], "pass_threshold": 0.8, "record_fields": {"question": "q"}}, "b": {"template": "{answer}"}}"#)) == nil)
    }

    @Test func malformedNodesNameTheKey() {
        #expect(field(config(nodes: "[]")) == "nodes")
        #expect(field(config(nodes: "{}")) == "nodes")
        #expect(field(config(nodes: #"{"a": "Q: {question}"}"#, rule: #""a""#)) == "nodes.a")
        #expect(field(config(nodes: #"{"Bad name": {"template": "{question}"}}"#, rule: #""a""#)) == "nodes.Bad name")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "prompt": "x"}}"#, rule: #""a""#)) == "nodes.a.prompt")
        #expect(field(config(nodes: #"{"a": {}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": 3}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "{questoin}"}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "{?reference}R: {reference}"}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "R: {reference}{/reference}"}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "{?reference}{?context}x{/context}{/reference}"}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "{?refrence}x{/refrence}"}}"#, rule: #""a""#)) == "nodes.a.template")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "scores": [0, 1, 2]}}"#, rule: #""a""#)) == "nodes.a.scores")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "scores": [1, 1]}}"#, rule: #""a""#)) == "nodes.a.scores")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "scores": ["yes", "no"]}}"#, rule: #""a""#)) == "nodes.a.scores")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "pass_threshold": 1.5}}"#, rule: #""a""#)) == "nodes.a.pass_threshold")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "pass_threshold": "0.5"}}"#, rule: #""a""#)) == "nodes.a.pass_threshold")
        #expect(field(config(nodes: #"{"a": {"template": "{question}", "record_fields": {"question": 1}}}"#, rule: #""a""#))
                == "nodes.a.record_fields.question")
        // The config around the nodes.
        #expect(field(config(extra: #", "template": "{question}""#)) == "template")
        #expect(field(#"{"name": "m", "grading_type": "single", "definition": "d", "rubric": {"0": "a", "1": "b"}, "nodes": {"a": {"template": "{question}"}}, "rule": "a"}"#) == "nodes")
        #expect(field(#"{"name": "m", "grading_type": "custom", "template": "{question}", "rule": "a"}"#) == "rule")
    }

    @Test func malformedRulesNameTheKey() {
        #expect(field(config(rule: nil)) == "rule")
        #expect(field(config(rule: #""c""#)) == "rule")
        #expect(field(config(rule: "3")) == "rule")
        #expect(field(config(rule: #"["a"]"#)) == "rule")
        #expect(field(config(rule: #"{"and": ["a", "b"]}"#)) == "rule")
        #expect(field(config(rule: #"{"not": "a", "all": ["b"]}"#)) == "rule")
        #expect(field(config(rule: #"{"all": []}"#)) == "rule.all")
        #expect(field(config(rule: #"{"any": "a"}"#)) == "rule.any")
        #expect(field(config(rule: #"{"all": ["a", {"not": "zz"}]}"#)) == "rule.all[1].not")
        #expect(field(config(rule: #"{"if": "a", "then": "b"}"#)) == "rule.else")
        #expect(field(config(rule: #"{"then": "a", "else": "b"}"#)) == "rule.if")
        #expect(field(config(rule: #"{"if": "a", "then": "b", "else": "a", "not": "b"}"#)) == "rule.not")
        #expect(field(config(rule: #"{"if": "a", "then": {"any": ["b", "x"]}, "else": false}"#)) == "rule.then.any[1]")
    }

    @Test func unknownNodeMessageListsTheNodes() {
        do {
            _ = try JudgeConfig(json: try #require(JSONParser.parse(config(rule: #""c""#)).object), source: "nodes.json")
            Issue.record("loaded")
        } catch {
            #expect("\(error)" == #"nodes.json: field "rule": unknown node 'c'; the nodes are a, b"#)
        }
    }

    // MARK: Rule

    @Test func ruleAsksOnlyTheNodesItNeeds() throws {
        let config = try Fixture.judge("restrict-to-banking-nodes.json")
        let rule = try #require(config.rule)
        func run(_ answers: [String: Bool]) -> (Bool, [String]) {
            var asked: [String] = []
            let value = rule.evaluate { name in
                asked.append(name)
                return answers[name]!
            }
            return (value, asked)
        }
        // Off topic: `correct` is never asked.
        #expect(run(["topic": false, "declined": true, "correct": true]) == (true, ["topic", "declined"]))
        #expect(run(["topic": false, "declined": false, "correct": true]) == (false, ["topic", "declined"]))
        // On topic and declined: the `all` stops at the first false.
        #expect(run(["topic": true, "declined": true, "correct": true]) == (false, ["topic", "declined"]))
        #expect(run(["topic": true, "declined": false, "correct": true]) == (true, ["topic", "declined", "correct"]))
        #expect(run(["topic": true, "declined": false, "correct": false]) == (false, ["topic", "declined", "correct"]))
        #expect(rule.nodeNames == ["topic", "declined", "correct"])
        #expect(NodeRule.any([.constant(false), .not(.constant(true))]).evaluate { _ in true } == false)
        #expect(NodeRule.any([.constant(false), .node("x")]).evaluate { $0 == "x" } == true)
    }

    // MARK: Templates

    @Test func optionalSectionsAreKeptOnlyWithTheirField() throws {
        let template = "Q: {question}\n{?reference}Ref: {reference}\n{/reference}Is it right?"
        #expect(TemplateRenderer.render(template, values: ["question": "q", "reference": "r"]) == "Q: q\nRef: r\nIs it right?")
        #expect(TemplateRenderer.render(template, values: ["question": "q"]) == "Q: q\nIs it right?")
        #expect(TemplateRenderer.requiredPlaceholders(in: template) == ["question"])
        #expect(try TemplateRenderer.optionalSections(in: template).get() == [.init(name: "reference", body: "Ref: {reference}\n")])
        // A template without sections renders as before, JSON braces included.
        #expect(TemplateRenderer.render(#"{"score": 1} {answer}"#, values: ["answer": "a"]) == #"{"score": 1} a"#)
    }

    @Test func nodePromptsReadTheirFieldsAndShareTheirCommonPart() throws {
        let config = try Fixture.judge("restrict-to-banking-nodes.json")
        let record: JSONObject = ["question": "How do I block my card?", "answer": "Use the app.", "reference": "Freeze it in the app."]
        func text(_ name: String, _ record: JSONObject) throws -> String {
            try #require(try config.node(name)?.prompt(for: record, shared: config.recordFields).get().messages.first?.content)
        }
        let topic = try text("topic", record), declined = try text("declined", record), correct = try text("correct", record)
        #expect(!topic.contains("Use the app."))
        #expect(declined.contains("Use the app.") && !declined.contains("Freeze"))
        #expect(correct.contains("Reference answer: Freeze it in the app."))
        var production = record
        production["reference"] = nil
        #expect(!(try text("correct", production)).contains("Reference"))
        // Declined and correct differ only after the answer; the final question is short.
        let common = zip(declined, correct).prefix { $0 == $1 }.count
        #expect(declined.prefix(common).hasSuffix("Answer: Use the app.\n"))
        #expect(declined.count - common < 200)
        // A missing required field is named.
        guard case let .failure(missing) = config.node("declined")!.prompt(for: ["question": "q"], shared: config.recordFields) else {
            Issue.record("no failure")
            return
        }
        #expect(missing.description.contains("\"answer\""))
    }

    // MARK: Training pairs

    @Test func trainingPairsOnePerLabelledNode() throws {
        let config = try Fixture.judge("restrict-to-banking-nodes.json")
        let maker = try JudgeTrainingPairs(config: config, labelField: "label")
        let record: JSONObject = ["id": "r1", "question": "Can I pay my rent by card?", "answer": "Yes, most banks allow it.",
                                  "node_labels": ["topic": 1, "declined": 0, "correct": .null]]
        let pairs = try maker.pairs(for: record)
        #expect(pairs.map { $0["node"]?.string } == ["topic", "declined"])
        #expect(pairs.map { $0["chosen"]?.string } == ["1", "0"])
        #expect(pairs.map { $0["rejected"]?.string } == ["0", "1"])
        #expect(pairs.allSatisfy { $0["id"] == "r1" && $0["judge"] == "restrict_to_banking" })
        // The prompt is the node's message in Gemma's chat format, the score token next.
        let prompt = try #require(pairs[0]["prompt"]?.string)
        #expect(prompt.hasPrefix("<start_of_turn>user\nYou check the replies"))
        #expect(prompt.hasSuffix("Check: is the question about banking or the bank's services?<end_of_turn>\n<start_of_turn>model\n"))
        #expect(!prompt.contains("Yes, most banks"))
        #expect(try #require(pairs[1]["prompt"]?.string).contains("Yes, most banks"))
        // Booleans count as labels; a record with only null labels gives no pair.
        #expect(try maker.pairs(for: ["question": "q", "answer": "a", "node_labels": ["correct": true]]).map { $0["chosen"] } == ["1"])
        #expect(try maker.pairs(for: ["question": "q", "answer": "a", "node_labels": ["topic": .null]]).isEmpty)
    }

    @Test func badNodeLabelsAreRecordErrors() throws {
        let maker = try JudgeTrainingPairs(config: try Fixture.judge("restrict-to-banking-nodes.json"), labelField: "label")
        let cases: [(JSONObject, String)] = [
            (["question": "q", "answer": "a"], "no field \"node_labels\""),
            (["question": "q", "answer": "a", "node_labels": 1], "expected an object"),
            (["question": "q", "answer": "a", "node_labels": ["topc": 1]], "\"node_labels.topc\": no such node"),
            (["question": "q", "answer": "a", "node_labels": ["topic": 2]], "\"node_labels.topic\": 2 is not one of"),
            (["question": "q", "node_labels": ["declined": 1]], "\"answer\""),
        ]
        for (record, message) in cases {
            do {
                _ = try maker.pairs(for: record)
                Issue.record("no error for \(record)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    // MARK: The HTTP backend

    /// A judging server that says yes to a node by the last line of its prompt: the topic question
    /// is about banking when the question mentions a card, the answer declines when it says "sorry",
    /// and it is correct when it mentions the app.
    static func server(logprobs: Bool) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            let body = (try? JSONParser.parse(request.text).object) ?? [:]
            let content = body["messages"]?[0]?["content"]?.string ?? ""
            let yes: Bool
            if content.hasSuffix("Check: is the question about banking or the bank's services?") {
                yes = content.contains("card")
            } else if content.hasSuffix("Check: does the answer decline?") {
                yes = content.contains("sorry")
            } else {
                yes = content.contains("the app")
            }
            let token = yes ? "1" : "0", other = yes ? "0" : "1"
            return .json(chatCompletion(token, logprobs: logprobs
                ? [(token, log(0.9), [(token, log(0.9)), (other, log(0.06)), ("The", log(0.04))])] : nil))
        }
    }

    static func judge(_ server: LoopbackHTTPServer, logprobs: Bool, allNodes: Bool = false) throws -> Judge {
        var settings = OpenAISettings(baseURL: server.url("/v1/"), model: "judge-model", apiKey: "sk-test")
        settings.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.001, maxDelay: 0.01)
        var options = JudgeOptions()
        options.wantsLogprobs = logprobs
        options.allNodes = allNodes
        return try Judge(config: try Fixture.judge("restrict-to-banking-nodes.json"), backend: OpenAIBackend(settings: settings),
                         options: options)
    }

    @Test func httpBackendAsksOneRequestPerNodeTheRuleReaches() throws {
        let server = try Self.server(logprobs: true)
        defer { server.stop() }
        let judge = try Self.judge(server, logprobs: true)
        // Banking, answered and correct: all three nodes.
        let good = judge.evaluate(["question": "How do I block my card?", "answer": "Freeze it in the app."])
        #expect(good.status == .ok, "\(good.json)")
        #expect(good.score == 1 && good.pass == true)
        let nodes = try #require(good.json["nodes"]?.object)
        #expect(nodes.members.map(\.key) == ["topic", "declined", "correct"])
        #expect(nodes["topic"]?["decision"] == 1)
        #expect(abs((nodes["topic"]?["p"]?.double ?? 0) - 0.9 / 0.96) < 1e-6)
        #expect(abs((nodes["declined"]?["p"]?.double ?? 1) - 0.06 / 0.96) < 1e-6)
        #expect(nodes["declined"]?["decision"] == 0)
        #expect(good.json["decision"] == 1)
        #expect(good.explanation == "topic: yes (p 0.94); declined: no (p 0.06); correct: yes (p 0.94)")
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { (try? JSONParser.parse($0.text))?["logprobs"] == .bool(true) })
        // Off topic and declined: `correct` is not asked.
        let refused = judge.evaluate(["question": "Best pizza in town?", "answer": "I'm sorry, I only help with banking."])
        #expect(refused.score == 1)
        #expect(refused.json["nodes"]?.object?.members.map(\.key) == ["topic", "declined"])
        #expect(server.requests.count == 5)
        // Off topic and answered: fails.
        let answered = judge.evaluate(["question": "Best pizza in town?", "answer": "Luigi's."])
        #expect(answered.score == 0 && answered.pass == false)
        #expect(answered.promptTokens == 200)
    }

    @Test func httpBackendWithoutLogprobsReadsTheReplyAndAllNodesAsksEveryNode() throws {
        let server = try Self.server(logprobs: false)
        defer { server.stop() }
        let judge = try Self.judge(server, logprobs: false, allNodes: true)
        let verdict = judge.evaluate(["question": "Best pizza in town?", "answer": "I'm sorry, I only help with banking."])
        #expect(verdict.status == .ok)
        #expect(verdict.score == 1)
        let nodes = try #require(verdict.json["nodes"]?.object)
        #expect(nodes.members.map(\.key) == ["topic", "declined", "correct"])
        #expect(nodes["topic"] == .object(["p": .null, "decision": 0]))
        #expect(nodes["declined"] == .object(["p": .null, "decision": 1]))
        #expect(server.requests.count == 3)
    }

    /// --calibrate with a node judge: the verdict against `label` and each evaluated node against
    /// `node_labels.<node>`, with its own accuracy, kappa and confusion.
    @Test func calibrationReportsEachNode() throws {
        let server = try Self.server(logprobs: true)
        defer { server.stop() }
        let judge = try Self.judge(server, logprobs: true)
        let lines = [
            // Right on every node.
            #"{"question": "How do I block my card?", "answer": "Freeze it in the app.", "label": 1, "node_labels": {"topic": 1, "declined": 0, "correct": 1}}"#,
            // The topic node is wrong (no "card"): the verdict too.
            #"{"question": "How do I open an account?", "answer": "Use the app.", "label": 1, "node_labels": {"topic": 1, "declined": 0, "correct": 1}}"#,
            // Off topic, declined: correct is not evaluated, its null label not compared.
            #"{"question": "Best pizza?", "answer": "I'm sorry, banking only.", "label": 1, "node_labels": {"topic": 0, "declined": 1, "correct": null}}"#,
            // No node labels: the verdict is compared, no node.
            #"{"question": "Best pizza?", "answer": "Luigi's.", "label": 0}"#,
        ]
        let result = try runJudge(judge, lines: lines, calibrate: "label")
        let report = try #require(result.records.first?["calibration"]?.object)
        #expect(report["compared"] == 4 && report["accuracy"] == 0.75)
        let nodes = try #require(report["nodes"]?.object)
        #expect(nodes.members.map(\.key) == ["topic", "declined", "correct"])
        #expect(nodes["topic"]?["compared"] == 3 && nodes["topic"]?["accuracy"] == 0.6667)
        #expect(nodes["topic"]?["label_field"] == "node_labels.topic")
        #expect(nodes["topic"]?["confusion"]?["1"]?["0"] == 1)
        #expect(nodes["declined"]?["compared"] == 3 && nodes["declined"]?["accuracy"] == 1.0)
        #expect(nodes["correct"]?["compared"] == 1 && nodes["correct"]?["accuracy"] == 1.0)
    }

    @Test func aNodeThatCannotBeReadFailsTheRecordAndKeepsTheNodesSoFar() throws {
        let server = try LoopbackHTTPServer { request in
            let content = (try? JSONParser.parse(request.text))?["messages"]?[0]?["content"]?.string ?? ""
            return .json(chatCompletion(content.hasSuffix("Check: does the answer decline?") ? "maybe" : "1"))
        }
        defer { server.stop() }
        let judge = try Self.judge(server, logprobs: false)
        let verdict = judge.evaluate(["question": "q", "answer": "a"])
        #expect(verdict.status == .parseError)
        #expect(verdict.reason?.hasPrefix("node declined: ") == true)
        #expect(verdict.raw == "maybe")
        #expect(verdict.score == nil)
        #expect(verdict.json["nodes"]?.object?.members.map(\.key) == ["topic"])
        // A record without the question the first node reads is an error naming the field.
        let missing = judge.evaluate(["answer": "a"])
        #expect(missing.status == .error)
        #expect(missing.reason?.contains("\"question\"") == true)
    }
}
