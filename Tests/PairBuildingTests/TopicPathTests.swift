import Records
import Testing
@testable import PairBuilding

/// The topic can sit inside the record, as `gemma-infer serve` logs a request's metadata.
@Suite struct TopicPathTests {
    func served(topic: JSONValue) -> JSONObject {
        var record = TestRecords.judged(id: "s-1", question: "Tell me a joke", answer: "Why did the ...")
        record["metadata"] = .object(["topic": topic])
        return record
    }

    @Test func aDottedTopicFieldReachesTheRequestMetadata() {
        let builder = TestRecords.builder { $0.topicField = "metadata.topic" }
        #expect(builder.add(served(topic: "off_topic"), at: TestRecords.location(1)) == .selected(.refusalPolicy))
        #expect(builder.pairs.first?.topic == "off_topic")
    }

    @Test func aBadTopicInTheMetadataIsNamedByItsPath() throws {
        let record = served(topic: "sports")
        var settings = PairBuildingSettings()
        settings.topicField = "metadata.topic"
        #expect(throws: RecordError("field 'metadata.topic' is 'sports', expected 'banking' or 'off_topic'")) {
            try JudgedRecord(record: record, location: TestRecords.location(1), settings: settings)
        }
    }
}
