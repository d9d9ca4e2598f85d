import ArgumentParser
import Gemma
import Inference

struct GenerationOptions: ParsableArguments {
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Generated tokens at most (the prompt does not count).")
    var maxTokens = 256
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Nucleus sampling: keep the most likely tokens up to this probability.")
    var topP: Float = 1
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Keep only the k most likely tokens (0: off).")
    var topK = 0
    @Option(name: .customLong("repetition-penalty"), parsing: .unconditional, help: "Penalty on tokens already in the sequence (1: off).")
    var repetitionPenalty: Float = 1
    @Option(parsing: .unconditional, help: "Random seed, for reproducible sampling.")
    var seed: UInt64?
    @Option(help: "Stop before this text (repeatable).")
    var stop: [String] = []
    @Option(name: .customLong("top-logprobs"), parsing: .unconditional, help: "Report each generated token's log-probability and the K best alternatives.")
    var topLogprobs: Int?
    @Option(help: "A system message put before each question.")
    var system: String?

    func settings() throws -> InferenceSettings {
        var s = InferenceSettings()
        s.maxTokens = maxTokens
        s.sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP,
                                        repetitionPenalty: repetitionPenalty, seed: seed)
        s.stop = stop
        s.topLogprobs = topLogprobs
        s.system = system
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        if let k = topLogprobs, k < 0 || k > 20 { throw ValidationError("--top-logprobs must be between 0 and 20") }
        do { try s.sampling.validate() } catch { throw ValidationError("\(error)") }
        return s
    }
}
