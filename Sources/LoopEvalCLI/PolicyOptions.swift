import ArgumentParser
import Evaluation
import Policy

/// The flags every subcommand shares: which policy, and where a judged record keeps what the
/// evaluation reads.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The deployment's policy: topics, refusal wordings, gate bounds (default: the bank's, as examples/banking/policy.json).", valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp("The judge metric whose verdict object each record carries (default: the policy's).", valueName: "name"))
    var metric: String?

    @Option(name: .customLong("topic-field"), help: ArgumentHelp("The field holding each question's label; a dotted path such as metadata.topic reaches a nested one.", valueName: "field"))
    var topicField = "topic"

    @Option(name: .customLong("answer-field"), help: ArgumentHelp("The field holding the model's answer.", valueName: "field"))
    var answerField = "answer"

    /// The policy file's, or the bank's built-in one.
    func loadPolicy() throws -> DomainPolicy {
        guard let policy else { return DomainPolicy.banking }
        return try DomainPolicy.load(path: policy)
    }

    func settings(for policy: DomainPolicy, requiresKnownTopics: Bool, topicFromJudge: Bool) -> EvaluationSettings {
        var settings = EvaluationSettings(metric: metric ?? policy.metric)
        settings.topicField = topicField
        settings.answerField = answerField
        settings.requiresKnownTopics = requiresKnownTopics
        settings.topicFromJudge = topicFromJudge
        return settings
    }
}

/// `--judge-topic` / `--no-judge-topic` of figures and rollback, which score traffic: a record without
/// a label takes the topic the judge's topic node decided. The gate reads labelled splits only, where
/// a question's topic must not depend on which model's file it is read from.
struct JudgeTopicOption: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: ArgumentHelp("A record without a label takes the topic the judge's topic node decided (<metric>.nodes.topic.decision: 1 the policy's first in-scope topic, 0 its first out-of-scope one)."))
    var judgeTopic = true
}
