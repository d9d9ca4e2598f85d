import ModelFormats

extension GemmaConfig {
    /// Reads the hyperparameters llama.cpp's converter stores (`gemma3.block_count` …). Values the
    /// format leaves out follow llama.cpp: Gemma 3's local RoPE base is 10000, and the attention
    /// scale is 1/sqrt(head dim) except on the 27B models (62 or 46 layers), which use
    /// 1/sqrt(hidden / heads).
    public init(gguf file: GGUFFile) throws {
        let src = file.path
        guard let archName = file.architecture else {
            throw GemmaError.invalidConfig(source: src, message: "metadata key 'general.architecture' is missing")
        }
        guard let arch = GemmaArchitecture(rawValue: archName) else {
            throw GemmaError.unsupportedArchitecture(source: src, architecture: archName)
        }
        let p = archName + "."
        func int(_ key: String) throws -> Int { try file.metadataInt(p + key) }
        func optInt(_ key: String) throws -> Int? { file.metadata[p + key] == nil ? nil : try int(key) }
        func optFloat(_ key: String) throws -> Float? {
            file.metadata[p + key] == nil ? nil : Float(try file.metadataDouble(p + key))
        }

        let hidden = try int("embedding_length")
        let layers = try int("block_count")
        try GemmaConfig.checkLayerCount(layers, key: p + "block_count", tensorCount: file.tensors.count, source: src)
        let heads = try int("attention.head_count")
        let kvHeads = try optInt("attention.head_count_kv") ?? heads
        let headDim = try optInt("attention.key_length") ?? hidden / max(heads, 1)
        let tokens = file.metadata["tokenizer.ggml.tokens"]?.array?.count
        let vocab = try optInt("vocab_size") ?? tokens ?? (try file.tensorInfo("token_embd.weight").torchShape.first ?? 0)

        var window: Int?
        var sliding: [Bool]?
        if arch != .gemma {
            window = try optInt("attention.sliding_window")
            if arch == .gemma3, window != nil {
                sliding = (0..<layers).map { $0 % 6 < 5 }
            }
        }
        let isLargest = (arch == .gemma3 && layers == 62) || (arch == .gemma2 && layers == 46)
        let scale = isLargest ? 1 / (Float(hidden) / Float(heads)).squareRoot() : 1 / Float(headDim).squareRoot()
        var eos = [file.metadata["tokenizer.ggml.eos_token_id"]?.int ?? 1]
        if let eot = file.metadata["tokenizer.ggml.eot_token_id"]?.int, !eos.contains(eot) { eos.append(eot) }

        self.init(
            architecture: arch, hiddenSize: hidden, intermediateSize: try int("feed_forward_length"),
            layerCount: layers, headCount: heads, kvHeadCount: kvHeads, headDim: headDim,
            vocabularySize: vocab, rmsNormEps: try optFloat("attention.layer_norm_rms_epsilon") ?? 1e-6,
            ropeBase: try optFloat("rope.freq_base") ?? 10000,
            ropeLocalBase: arch == .gemma3 ? 10000 : nil,
            slidingWindow: window, slidingLayers: sliding, attentionScale: scale,
            attentionSoftcap: arch == .gemma2 ? try optFloat("attn_logit_softcapping") : nil,
            finalLogitSoftcap: arch == .gemma2 ? try optFloat("final_logit_softcapping") : nil,
            contextLength: try optInt("context_length") ?? 8192,
            bosID: file.metadata["tokenizer.ggml.bos_token_id"]?.int ?? 2, eosIDs: eos,
            padID: file.metadata["tokenizer.ggml.padding_token_id"]?.int)
        try validate(source: src)
    }
}
