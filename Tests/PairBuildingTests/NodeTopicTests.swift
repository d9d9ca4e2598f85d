import Records
import Testing
@testable import PairBuilding

/// Served traffic carries no topic: a decomposed judge's `topic` node decides it
/// (`restrict_to_banking.nodes.topic.decision`), so pairs can be made without client metadata.
@Suite struct NodeTopicTests {
    func judged(topicDecision: JSONValue?, recordTopic: String? = nil, verdictTopic: String? = nil) -> JSONObject {
        var record = TestRecords.judged(id: "s-1", question: "Tell me a joke", answer: "Why did the ...",
                                        verdictTopic: verdictTopic, topic: recordTopic)
        if let topicDecision, var verdict = record["restrict_to_banking"]?.object {
            verdict["nodes"] = .object(["topic": .object(["p": 0.9, "decision": topicDecision]),
                                        "declined": .object(["p": 0.1, "decision": 0])])
            record["restrict_to_banking"] = .object(verdict)
        }
        return record
    }

    func topic(_ record: JSONObject) throws -> String? {
        try JudgedRecord(record: record, location: TestRecords.location(1), settings: PairBuildingSettings()).topic
    }

    @Test func theTopicNodeGivesTheTopic() throws {
        #expect(try topic(judged(topicDecision: 1)) == "banking")
        #expect(try topic(judged(topicDecision: 0)) == "off_topic")
        // No node, no topic: as before.
        #expect(try topic(judged(topicDecision: nil)) == nil)
    }

    @Test func aTopicFieldOrTheVerdictsTopicComesFirst() throws {
        #expect(try topic(judged(topicDecision: 1, recordTopic: "off_topic")) == "off_topic")
        #expect(try topic(judged(topicDecision: 1, verdictTopic: "off_topic")) == "off_topic")
    }

    @Test func aBadNodeDecisionIsNamedByItsPath() {
        #expect(throws: RecordError("field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found 2")) {
            try topic(judged(topicDecision: 2))
        }
        #expect(throws: RecordError("field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found \"yes\"")) {
            try topic(judged(topicDecision: "yes"))
        }
        // judge always writes a decision: a node without one is broken, not absent.
        #expect(throws: RecordError("field 'restrict_to_banking.nodes.topic.decision' must be 0 or 1, found null")) {
            try topic(judged(topicDecision: .null))
        }
    }

    @Test func anOffTopicNodeMakesARefusalPair() {
        let builder = TestRecords.builder { _ in }
        #expect(builder.add(judged(topicDecision: 0), at: TestRecords.location(1)) == .selected(.refusalPolicy))
        #expect(builder.pairs.first?.topic == "off_topic")
        #expect(builder.pairs.first?.chosen == TestRecords.refusal)
    }
}
