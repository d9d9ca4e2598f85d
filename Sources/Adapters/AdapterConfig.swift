import Foundation
import Gemma
import JSON

/// PEFT's `adapter_config.json` for a LoRA adapter (docs/peft.md, "adapter_config.json"): the keys
/// `PeftModel.from_pretrained` needs. Reading ignores unknown keys, as PEFT does, but refuses
/// settings that would change the adapter's meaning and that this project does not implement
/// (DoRA, biases, transposed weights).
public struct AdapterConfig: Codable, Sendable, Equatable {
    public var peftType: String
    public var taskType: String
    public var r: Int
    public var loraAlpha: Double
    public var loraDropout: Double
    /// PEFT module names ("q_proj" …) in the order the file lists them.
    public var targetModules: [String]
    public var bias: String
    public var fanInFanOut: Bool
    public var useRslora: Bool
    public var useDora: Bool
    public var baseModelNameOrPath: String?
    public var inferenceMode: Bool
    /// Per-module ranks and alphas overriding r and lora_alpha; PEFT writes them empty, and this
    /// project refuses non-empty ones rather than apply a wrong scale.
    public var rankPattern: [String: Double]
    public var alphaPattern: [String: Double]

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", taskType = "task_type", r, loraAlpha = "lora_alpha"
        case loraDropout = "lora_dropout", targetModules = "target_modules", bias
        case fanInFanOut = "fan_in_fan_out", useRslora = "use_rslora", useDora = "use_dora"
        case baseModelNameOrPath = "base_model_name_or_path", inferenceMode = "inference_mode"
        case rankPattern = "rank_pattern", alphaPattern = "alpha_pattern"
    }

    public init(r: Int, loraAlpha: Double, targetModules: [String], loraDropout: Double = 0,
                useRslora: Bool = false, baseModelNameOrPath: String? = nil) {
        peftType = "LORA"
        taskType = "CAUSAL_LM"
        self.r = r
        self.loraAlpha = loraAlpha
        self.loraDropout = loraDropout
        self.targetModules = targetModules
        bias = "none"
        fanInFanOut = false
        self.useRslora = useRslora
        useDora = false
        self.baseModelNameOrPath = baseModelNameOrPath
        inferenceMode = true
        rankPattern = [:]
        alphaPattern = [:]
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        peftType = try c.decode(String.self, forKey: .peftType)
        taskType = try c.decodeIfPresent(String.self, forKey: .taskType) ?? "CAUSAL_LM"
        r = try c.decode(Int.self, forKey: .r)
        loraAlpha = try c.decode(Double.self, forKey: .loraAlpha)
        loraDropout = try c.decodeIfPresent(Double.self, forKey: .loraDropout) ?? 0
        // PEFT also accepts one string: "all-linear" or a regular expression over module names.
        if let list = try? c.decode([String].self, forKey: .targetModules) {
            targetModules = list
        } else {
            let s = try c.decode(String.self, forKey: .targetModules)
            guard s == "all-linear" else {
                throw DecodingError.dataCorruptedError(
                    forKey: .targetModules, in: c,
                    debugDescription: "a pattern ('\(s)') is not supported; list the modules or use \"all-linear\"")
            }
            targetModules = LayerTensor.linearRoles.compactMap(\.peftModule)
        }
        bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
        fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        useRslora = try c.decodeIfPresent(Bool.self, forKey: .useRslora) ?? false
        useDora = try c.decodeIfPresent(Bool.self, forKey: .useDora) ?? false
        baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
        inferenceMode = try c.decodeIfPresent(Bool.self, forKey: .inferenceMode) ?? true
        rankPattern = try c.decodeIfPresent([String: Double].self, forKey: .rankPattern) ?? [:]
        alphaPattern = try c.decodeIfPresent([String: Double].self, forKey: .alphaPattern) ?? [:]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(peftType, forKey: .peftType)
        try c.encode(taskType, forKey: .taskType)
        try c.encode(r, forKey: .r)
        try c.encode(loraAlpha, forKey: .loraAlpha)
        try c.encode(loraDropout, forKey: .loraDropout)
        try c.encode(targetModules, forKey: .targetModules)
        try c.encode(bias, forKey: .bias)
        try c.encode(fanInFanOut, forKey: .fanInFanOut)
        try c.encode(useRslora, forKey: .useRslora)
        try c.encode(useDora, forKey: .useDora)
        try c.encode(baseModelNameOrPath, forKey: .baseModelNameOrPath)
        try c.encode(inferenceMode, forKey: .inferenceMode)
        try c.encode(rankPattern, forKey: .rankPattern)
        try c.encode(alphaPattern, forKey: .alphaPattern)
    }

    /// lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.
    public var scale: Float {
        Float(useRslora ? loraAlpha / Double(r).squareRoot() : loraAlpha / Double(r))
    }

    /// The adapted roles, in the model's order.
    public func targetRoles() throws -> [LayerTensor] {
        var roles = Set<LayerTensor>()
        for m in targetModules {
            guard let role = LayerTensor(peftModule: m) else {
                throw AdapterError.invalidArgument(
                    "target module '\(m)' is not a Gemma linear layer (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj)")
            }
            roles.insert(role)
        }
        return LayerTensor.linearRoles.filter(roles.contains)
    }

    /// Throws when the settings describe an adapter this project cannot apply faithfully.
    public func validate() throws {
        guard peftType == "LORA" else { throw AdapterError.invalidArgument("peft_type is '\(peftType)', expected \"LORA\"") }
        guard r > 0 else { throw AdapterError.invalidArgument("r must be positive, got \(r)") }
        guard loraAlpha.isFinite else { throw AdapterError.invalidArgument("lora_alpha must be a finite number") }
        guard scale.isFinite else {
            throw AdapterError.invalidArgument(
                "lora_alpha \(loraAlpha) over r \(r) gives a scale beyond the range of float32 (at most about 3.4e38)")
        }
        guard loraDropout >= 0, loraDropout < 1 else {
            throw AdapterError.invalidArgument("lora_dropout must lie in [0, 1), got \(loraDropout)")
        }
        guard bias == "none" else { throw AdapterError.invalidArgument("bias '\(bias)' is not supported, only \"none\"") }
        guard !fanInFanOut else { throw AdapterError.invalidArgument("fan_in_fan_out true is not supported") }
        guard !useDora else { throw AdapterError.invalidArgument("use_dora true (DoRA) is not supported") }
        guard rankPattern.isEmpty, alphaPattern.isEmpty else {
            throw AdapterError.invalidArgument("rank_pattern and alpha_pattern (per-module ranks or alphas) are not supported")
        }
        guard !targetModules.isEmpty else { throw AdapterError.invalidArgument("target_modules is empty") }
        _ = try targetRoles()
    }

    /// Reads and validates `adapter_config.json`; errors name the file and the key.
    public static func read(path: String) throws -> AdapterConfig {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw AdapterError.file(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Decodes and validates the text of an `adapter_config.json`; errors name `path`.
    public static func decode(_ data: Data, path: String) throws -> AdapterConfig {
        let config: AdapterConfig
        do { config = try JSONDocument.decode(AdapterConfig.self, from: data) } catch {
            throw AdapterError.file(path: path, message: error.message)
        }
        do { try config.validate() } catch let error as AdapterError {
            throw AdapterError.file(path: path, message: error.description)
        }
        return config
    }

    /// Writes the configuration as pretty-printed JSON with sorted keys.
    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw AdapterError.file(path: path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}
