import Records
import Testing
import TestSupport
@testable import Policy

@Suite struct DomainPolicyTests {
    /// The tools' default and the committed file are the same policy.
    @Test func theBankFileIsTheBuiltInPolicy() throws {
        let policy = try DomainPolicy.load(path: bankingPolicyPath)
        #expect(policy == DomainPolicy.banking)
        #expect(policy.metric == "restrict_to_banking")
        #expect(policy.topics.inScope == ["banking"] && policy.topics.outOfScope == ["off_topic"])
        #expect(policy.gate == GateThresholds(maxFalseRefusalRate: 0.2, maxFalseRefusalIncrease: 0.1))
        #expect(policy.refusal.text == "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?")
    }

    /// A valid policy with one member replaced (nil removes it), as a JSON object.
    static func policy(_ path: String, _ value: JSONValue?) throws -> JSONObject {
        var object: JSONObject = [
            "name": "cooking", "metric": "stay_on_cooking",
            "topics": ["in_scope": ["recipes"], "out_of_scope": ["other"]],
            "refusal": ["text": "Sorry, I only talk about cooking.", "phrases": ["only talk about cooking"]],
            "gate": ["max_false_refusal_rate": 0.3, "max_false_refusal_increase": 0.05],
        ]
        let parts = path.split(separator: ".").map(String.init)
        if parts.count == 1 {
            object[parts[0]] = value
        } else {
            var inner = try #require(object[parts[0]]?.object)
            inner[parts[1]] = value
            object[parts[0]] = .object(inner)
        }
        return object
    }

    @Test func aValidPolicyReads() throws {
        let policy = try DomainPolicy(json: try Self.policy("name", "cooking"), source: "p.json")
        #expect(policy.topics.scope(of: "recipes") == .inScope && policy.topics.scope(of: "other") == .outOfScope)
        #expect(policy.topics.scope(of: "banking") == nil)
        #expect(policy.detector.isRefusal("Sorry, I ONLY talk about cooking!"))
    }

    /// A teacher is told what the policy says it should be, then its refusal; without
    /// `teacher_instructions`, to answer the in-scope topics.
    @Test func theTeacherPromptComesFromThePolicy() throws {
        var json = try Self.policy("name", "cooking")
        let plain = try DomainPolicy(json: json, source: "p.json")
        #expect(plain.teacherPrompt.hasPrefix("Answer questions about recipes correctly and concisely"))
        #expect(plain.teacherPrompt.hasSuffix("reply with exactly this text and nothing else: " + plain.refusal.text))
        json["teacher_instructions"] = "You are a chef's assistant."
        let told = try DomainPolicy(json: json, source: "p.json")
        #expect(told.teacherPrompt == "You are a chef's assistant. For any question that is not about this, reply with exactly this text and nothing else: "
                + told.refusal.text)
        #expect(DomainPolicy.banking.teacherPrompt.hasPrefix("You are the customer-service agent of a retail bank."))
    }

    /// Every way a policy file can be wrong gets a message naming the file and the field.
    @Test(arguments: [
        // A missing field.
        ("name", nil, "p.json: field 'name': missing"),
        ("metric", nil, "p.json: field 'metric': missing"),
        ("topics", nil, "p.json: field 'topics': missing"),
        ("topics.in_scope", nil, "p.json: field 'topics.in_scope': missing"),
        ("topics.out_of_scope", nil, "p.json: field 'topics.out_of_scope': missing"),
        ("refusal", nil, "p.json: field 'refusal': missing"),
        ("refusal.text", nil, "p.json: field 'refusal.text': missing"),
        ("gate", nil, "p.json: field 'gate': missing"),
        ("gate.max_false_refusal_rate", nil, "p.json: field 'gate.max_false_refusal_rate': missing"),
        ("gate.max_false_refusal_increase", nil, "p.json: field 'gate.max_false_refusal_increase': missing"),
        // A wrong type.
        ("metric", 3, "p.json: field 'metric': expected a string, found number"),
        ("teacher_instructions", 1, "p.json: field 'teacher_instructions': expected a string, found number"),
        ("topics", ["recipes"], "p.json: field 'topics': expected an object, found array"),
        ("topics.in_scope", "recipes", "p.json: field 'topics.in_scope': expected an array of strings, found string"),
        ("topics.out_of_scope", [1], "p.json: field 'topics.out_of_scope[0]': expected a string, found number"),
        ("refusal", "Sorry.", "p.json: field 'refusal': expected an object, found string"),
        ("refusal.text", ["Sorry."], "p.json: field 'refusal.text': expected a string, found array"),
        ("refusal.phrases", "only talk about cooking", "p.json: field 'refusal.phrases': expected an array of strings, found string"),
        ("refusal.patterns", [true], "p.json: field 'refusal.patterns[0]': expected a string, found boolean"),
        ("gate.max_false_refusal_rate", "0.2", "p.json: field 'gate.max_false_refusal_rate': expected a number, found string"),
        // An empty wording list, or none at all.
        ("refusal.phrases", [], "p.json: field 'refusal.phrases': is empty: list at least one phrase"),
        ("refusal.phrases", nil, "p.json: field 'refusal': lists no wordings: give 'phrases' or 'patterns' (or both), the ways of declining that count as a refusal"),
        ("refusal.patterns", [], "p.json: field 'refusal.patterns': is empty: list at least one pattern"),
        ("refusal.phrases", ["  "], "p.json: field 'refusal.phrases[0]': must not be empty"),
        ("refusal.phrases", ["?!"], "p.json: field 'refusal.phrases[0]': '?!' has no letters or digits"),
        // Values that cannot be meant.
        ("name", "", "p.json: field 'name': must not be empty"),
        ("refusal.text", " ", "p.json: field 'refusal.text': must not be empty"),
        ("topics.in_scope", [], "p.json: field 'topics.in_scope': is empty: list at least one topic label"),
        ("topics.in_scope", ["recipes", "recipes"], "p.json: field 'topics.in_scope[1]': 'recipes' is listed twice"),
        ("topics.out_of_scope", ["other", "recipes"], "p.json: field 'topics.out_of_scope[1]': 'recipes' is also in in_scope"),
        ("gate.max_false_refusal_rate", 1.5, "p.json: field 'gate.max_false_refusal_rate': 1.5 is not a share from 0 to 1"),
        ("gate.max_false_refusal_increase", -0.1, "p.json: field 'gate.max_false_refusal_increase': -0.1 is not a share from 0 to 1"),
        ("refusal.patterns", ["(unclosed"], nil),
        ("refusal.patterns", ["(sorry)?"], "p.json: field 'refusal.patterns[0]': '(sorry)?' matches an empty answer, so every answer would be a refusal"),
        ("refusal.phrase", ["a misspelt field"], "p.json: field 'refusal.phrase': unknown field (expected 'text', 'phrases', 'patterns')"),
        ("threshold", 0.2, "p.json: field 'threshold': unknown field (expected 'description', 'name', 'metric', 'topics', 'refusal', 'gate', 'teacher_instructions')"),
    ] as [(String, JSONValue?, String?)])
    func malformedPoliciesAreNamedByFileAndField(field: String, value: JSONValue?, message: String?) throws {
        let json = try Self.policy(field, value)
        do {
            _ = try DomainPolicy(json: json, source: "p.json")
            Issue.record("accepted \(field) = \(value.map { "\($0)" } ?? "nothing")")
        } catch let error as PolicyError {
            if let message {
                #expect(error.description == message)
            } else {
                #expect(error.description.hasPrefix("p.json: field 'refusal.patterns[0]': '(unclosed' is not a regular expression: "))
            }
        }
    }

    @Test func aFileThatIsNotAPolicyIsNamed() throws {
        let dir = try TemporaryDirectory()
        let notJSON = try dir.write("a.json", lines: ["{\"name\": "])
        let notObject = try dir.write("b.json", lines: ["[1, 2]"])
        #expect(throws: PolicyError.self) { try DomainPolicy.load(path: notJSON) }
        do { _ = try DomainPolicy.load(path: notJSON) } catch let error as PolicyError {
            #expect(error.description.hasPrefix("\(notJSON): not valid JSON: "))
        }
        #expect(throws: PolicyError(source: notObject, field: "", message: "expected a JSON object, found array")) {
            try DomainPolicy.load(path: notObject)
        }
        #expect(throws: PolicyError(source: dir.file("none.json"), field: "", message: "cannot read the policy file")) {
            try DomainPolicy.load(path: dir.file("none.json"))
        }
    }
}
