import Foundation
import Hashing
import Records

/// Settings of a judging run that are not part of the metric's config.
public struct JudgeOptions: Sendable {
    /// Ask the backend for log-probabilities and score by their expectation (the local backend
    /// always does).
    public var wantsLogprobs = false
    /// Have the local backend write an explanation (API backends always may).
    public var wantsExplanation = true
    /// Judge only this fraction of the records, chosen by the hash of their id.
    public var sampleRate: Double?
    /// The record field whose value identifies a record for sampling (the whole record when absent).
    public var idField = "id"
    /// Prices per million tokens, for `cost`.
    public var promptPricePerMillion = 0.0
    public var completionPricePerMillion = 0.0
    /// A decomposed judge asks every node of every record, in the config's order, instead of only
    /// those the rule reaches (`judge --all-nodes`): what training and per-node evaluation need.
    public var allNodes = false

    public init() {}
}

/// Judges records for one metric: builds the prompt from the record, asks the backend (through the
/// cache, the rate limiter and the budget), reads the score and returns a `Verdict`. It never throws
/// for a record: every failure is a status, and a reply without a score is never a score.
///
/// Safe to call from several threads at once.
public final class Judge: @unchecked Sendable {
    public let config: JudgeConfig
    public let builder: PromptBuilder
    public let backend: (any JudgeBackend)?
    public let cache: JudgeCache?
    public let rateLimiter: RateLimiter?
    public let budget: Budget?
    public let options: JudgeOptions
    public let templateSHA: String

    private let lock = NSLock()
    private var pairwiseCounts = (judged: 0, consistent: 0)

    public init(config: JudgeConfig, backend: (any JudgeBackend)?, cache: JudgeCache? = nil,
                rateLimiter: RateLimiter? = nil, budget: Budget? = nil, options: JudgeOptions = JudgeOptions()) throws {
        guard backend != nil || config.gradingType == .check else {
            throw JudgeError.backendUnavailable(
                "the \(config.gradingType.rawValue) metric \(config.name) needs a judging model: pass --base-url (or set OPENAI_BASE_URL) or --local")
        }
        if let rate = options.sampleRate, !(rate >= 0 && rate <= 1) {
            throw JudgeError.invalidConfig(source: "--sample", field: "rate", message: "\(rate) is not between 0 and 1")
        }
        self.config = config
        self.builder = PromptBuilder(config: config)
        self.backend = backend
        self.cache = cache
        self.rateLimiter = rateLimiter
        self.budget = budget
        self.options = options
        if config.gradingType == .check {
            templateSHA = SHA256.hash("\(config.check.map { "\($0)" } ?? "")|\(config.version)").hex
        } else if config.hasNodes {
            templateSHA = Self.nodesSHA(config)
        } else {
            templateSHA = builder.templateSHA
        }
    }

    /// Pairwise records judged in both orders so far, and how many of them agreed.
    public var pairwiseConsistency: (judged: Int, consistent: Int) {
        lock.lock()
        defer { lock.unlock() }
        return pairwiseCounts
    }

    /// The record with the verdict added under the metric's name.
    public func annotate(_ record: JSONObject) -> (record: JSONObject, verdict: Verdict) {
        let verdict = evaluate(record)
        var out = record
        out[config.name] = .object(verdict.json)
        return (out, verdict)
    }

    private func blank(_ status: Verdict.Status, reason: String? = nil) -> Verdict {
        var v = Verdict(status: status, model: backend?.modelName ?? "check", templateSHA: templateSHA, version: config.version)
        v.reason = reason
        return v
    }

    /// Whether the record is in the `--sample`: the SHA-256 of its id, read as a number in [0, 1),
    /// is below the rate. The same record is always in or out, whatever else is in the stream.
    public func isSampled(_ record: JSONObject) -> Bool {
        guard let rate = options.sampleRate else { return true }
        let id: String
        switch record.value(atPath: options.idField) {
        case let .string(s)?: id = s
        case let value?: id = JSONSerializer.string(value)
        case nil: id = JSONSerializer.string(.object(record))
        }
        return SHA256.hash(id).unitInterval < rate
    }

    public func evaluate(_ record: JSONObject) -> Verdict {
        guard isSampled(record) else {
            return blank(.notJudged, reason: "not in the \(options.sampleRate ?? 1) sample")
        }
        if config.hasNodes {
            if let reason = budget?.exhaustedReason { return blank(.budgetExhausted, reason: reason) }
            return nodes(record)
        }
        let values: [String: String]
        switch config.promptValues(in: record) {
        case let .success(found): values = found
        case let .failure(missing): return blank(.error, reason: missing.description)
        }
        if let check = config.check {
            let result = check.evaluate(values["answer"] ?? "")
            var v = blank(.ok)
            v.score = result.passed ? 1 : 0
            v.decision = ScoreScale.Option(label: result.passed ? "1" : "0", value: v.score ?? 0)
            v.pass = (v.score ?? 0) >= config.passThreshold
            v.explanation = result.explanation
            return v
        }
        if let reason = budget?.exhaustedReason {
            return blank(.budgetExhausted, reason: reason)
        }
        if config.gradingType == .pairwise {
            return pairwise(values)
        }
        return single(builder.prompt(values: values))
    }

    /// SHA-256 (hex) of a decomposed judge's wording: each node's template, fields, scores and
    /// threshold, the rule and the version.
    static func nodesSHA(_ config: JudgeConfig) -> String {
        let nodes: [JSONValue] = config.nodes.map { node in
            .object(["name": .string(node.name), "template": .string(node.template),
                     "record_fields": .object(JSONObject(node.recordFields.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                     "scores": .array(node.scores.map { .string($0) }), "pass_threshold": .double(node.passThreshold)])
        }
        let shared = JSONObject(config.recordFields.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        let json: JSONObject = ["nodes": .array(nodes), "rule": config.ruleJSON ?? .null,
                                "record_fields": .object(shared), "version": .string(config.version)]
        return SHA256.hash(JSONSerializer.string(.object(json))).hex
    }

    /// A node that could not be decided: the verdict takes its status and reason.
    private struct NodeFailure: Error {
        var status: Verdict.Status
        var reason: String
    }

    /// A decomposed judge's verdict: the rule evaluated over the nodes it reaches (or all of them
    /// first, with `allNodes`), each node one prompt; score 1 when the rule holds, else 0.
    private func nodes(_ record: JSONObject) -> Verdict {
        var v = blank(.ok)
        var outcomes: [NodeOutcome] = []
        var allCached = true
        func decide(_ name: String) throws -> Bool {
            if let known = outcomes.first(where: { $0.name == name }) { return known.decision == 1 }
            guard let node = config.node(name) else { throw NodeFailure(status: .error, reason: "no node \(name)") }
            v.cached = false
            let outcome = try ask(node, record, into: &v)
            allCached = allCached && v.cached
            outcomes.append(outcome)
            return outcome.decision == 1
        }
        do {
            if options.allNodes {
                for node in config.nodes { _ = try decide(node.name) }
            }
            let holds = try config.rule?.evaluate(decide) ?? false
            v.score = holds ? 1 : 0
            v.decision = ScoreScale.Option(label: holds ? "1" : "0", value: holds ? 1 : 0)
            v.pass = (v.score ?? 0) >= config.passThreshold
        } catch let failure as NodeFailure {
            v.status = failure.status
            v.reason = failure.reason
        } catch {
            v.status = .error
            v.reason = "\(error)"
        }
        v.nodes = outcomes
        v.cached = allCached && !outcomes.isEmpty
        v.explanation = outcomes.map { outcome in
            "\(outcome.name): \(outcome.decision == 1 ? "yes" : "no")"
                + (outcome.probability.map { String(format: " (p %.2f)", $0) } ?? "")
        }.joined(separator: "; ")
        return v
    }

    /// Asks one node: its prompt through the backend, read as P(yes) from the score tokens' probabilities
    /// (normalised over the node's two scores) or, without them, from the reply text.
    private func ask(_ node: JudgeNode, _ record: JSONObject, into v: inout Verdict) throws -> NodeOutcome {
        let prompt: JudgePrompt
        switch node.prompt(for: record, shared: config.recordFields) {
        case let .success(built): prompt = built
        case let .failure(missing): throw NodeFailure(status: .error, reason: "node \(node.name): \(missing)")
        }
        let reply: BackendReply
        do {
            reply = try call(prompt, scale: node.scale, scoreTokensOnly: true, into: &v)
        } catch {
            throw NodeFailure(status: .error, reason: "node \(node.name): \(error)")
        }
        if let distribution = reply.scoreLogprobs.flatMap({ ScoreDistribution(logprobs: $0, scale: node.scale) }) {
            let yes = distribution.probabilities.first { $0.option.label == node.yesLabel }?.probability ?? 0
            return NodeOutcome(name: node.name, probability: yes, decision: yes >= node.passThreshold ? 1 : 0)
        }
        switch ScoreParser.parse(reply.text, scale: node.scale) {
        case let .scored(option, _):
            return NodeOutcome(name: node.name, probability: nil, decision: option.label == node.yesLabel ? 1 : 0)
        case let .unparseable(reason):
            v.raw = reply.text
            throw NodeFailure(status: .parseError, reason: "node \(node.name): \(reason)")
        }
    }

    /// One prompt, one verdict.
    private func single(_ prompt: JudgePrompt) -> Verdict {
        var v = blank(.ok)
        let reply: BackendReply
        do {
            reply = try call(prompt, into: &v)
        } catch {
            v.status = .error
            v.reason = "\(error)"
            return v
        }
        read(reply, into: &v)
        return v
    }

    /// Both orders: A|B, then B|A with the labels swapped back; a disagreement is a tie.
    private func pairwise(_ values: [String: String]) -> Verdict {
        var swapped = values
        swapped["answer_a"] = values["answer_b"]
        swapped["answer_b"] = values["answer_a"]
        let first = single(builder.prompt(values: values))
        var second = single(builder.prompt(values: swapped))
        var v = first
        v.promptTokens += second.promptTokens
        v.completionTokens += second.completionTokens
        v.latencyMilliseconds += second.latencyMilliseconds
        v.cost += second.cost
        v.cached = first.cached && second.cached
        guard first.status == .ok else { return v }
        guard second.status == .ok else {
            second.promptTokens = v.promptTokens
            second.completionTokens = v.completionTokens
            second.latencyMilliseconds = v.latencyMilliseconds
            second.cost = v.cost
            second.reason = second.reason.map { "in the B|A order: \($0)" }
            return second
        }
        func side(_ label: String?, flipped: Bool) -> String {
            switch label {
            case "A": return flipped ? "b" : "a"
            case "B": return flipped ? "a" : "b"
            default: return "tie"
            }
        }
        let orders = [side(first.decision?.label, flipped: false), side(second.decision?.label, flipped: true)]
        let consistent = orders[0] == orders[1]
        let winner = consistent ? orders[0] : "tie"
        let value = winner == "a" ? 1.0 : winner == "b" ? 0.0 : 0.5
        v.pairwise = Verdict.PairwiseOutcome(winner: winner, orders: orders, consistent: consistent)
        v.score = value
        v.decision = ScoreScale.pairwise.options.first { $0.value == value }
        v.pass = value >= config.passThreshold
        v.distribution = nil
        v.explanation = consistent ? first.explanation
            : "the two orders disagree (A|B: \(orders[0]), B|A: \(orders[1])), so it is a tie; A|B said: \(first.explanation)"
        lock.lock()
        pairwiseCounts.judged += 1
        if consistent { pairwiseCounts.consistent += 1 }
        lock.unlock()
        return v
    }

    /// Sends one prompt through the cache, rate limiter and budget, recording usage in `v`.
    private func call(_ prompt: JudgePrompt, into v: inout Verdict) throws -> BackendReply {
        try call(prompt, scale: config.scale, scoreTokensOnly: false, into: &v)
    }

    private func call(_ prompt: JudgePrompt, scale: ScoreScale, scoreTokensOnly: Bool, into v: inout Verdict) throws -> BackendReply {
        guard let backend else { throw JudgeError.backendUnavailable("no backend") }
        let request = BackendRequest(prompt: prompt, scale: scale, wantsLogprobs: options.wantsLogprobs,
                                     wantsExplanation: scoreTokensOnly ? false : options.wantsExplanation,
                                     scoreTokensOnly: scoreTokensOnly)
        let key = cache.map { _ in JudgeCache.key(prompt: prompt, model: backend.modelName, parameters: backend.parameters, request: request) }
        var reply: BackendReply
        if let cache, let key, let stored = cache.reply(forKey: key) {
            reply = stored
            v.cached = true
        } else {
            rateLimiter?.acquire()
            let start = DispatchTime.now().uptimeNanoseconds
            defer { v.latencyMilliseconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
            reply = try backend.complete(request)
            if let cache, let key { try? cache.store(reply, forKey: key) }
        }
        let cost = (Double(reply.promptTokens) * options.promptPricePerMillion
                    + Double(reply.completionTokens) * options.completionPricePerMillion) / 1e6
        if !v.cached { budget?.charge(tokens: reply.promptTokens + reply.completionTokens, cost: cost) }
        v.promptTokens += reply.promptTokens
        v.completionTokens += reply.completionTokens
        v.cost += cost
        return reply
    }

    /// Reads the score: from the score tokens' probabilities when there are any, else from the text.
    private func read(_ reply: BackendReply, into v: inout Verdict) {
        let scale = config.scale
        let parsed = ScoreParser.parse(reply.text, scale: scale)
        let distribution = reply.scoreLogprobs.flatMap { ScoreDistribution(logprobs: $0, scale: scale) }
        switch parsed {
        case let .unparseable(reason):
            v.status = .parseError
            v.reason = reason
            v.raw = reply.text
        case let .scored(option, explanation):
            v.explanation = explanation
            if let distribution, let nearest = distribution.nearestOption {
                v.distribution = distribution
                v.score = distribution.expectedValue
                v.decision = nearest
            } else {
                v.score = option.value
                v.decision = option
            }
            v.pass = (v.decision?.value ?? 0) >= config.passThreshold
        }
    }
}
