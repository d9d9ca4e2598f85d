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
        self.templateSHA = config.gradingType == .check
            ? SHA256.hash("\(config.check.map { "\($0)" } ?? "")|\(config.version)").hex
            : builder.templateSHA
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
        guard let backend else { throw JudgeError.backendUnavailable("no backend") }
        let request = BackendRequest(prompt: prompt, scale: config.scale, wantsLogprobs: options.wantsLogprobs,
                                     wantsExplanation: options.wantsExplanation)
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
