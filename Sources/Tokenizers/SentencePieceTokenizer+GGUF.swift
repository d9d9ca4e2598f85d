import ModelFormats

extension SentencePieceTokenizer {
    /// Builds the tokenizer from a GGUF file's `tokenizer.ggml.*` metadata (docs/sentencepiece.md,
    /// "Vocabulary in GGUF"). Only the SentencePiece vocabulary type (`tokenizer.ggml.model` =
    /// "llama", Gemma's) is accepted.
    public init(gguf: GGUFFile) throws {
        let metadata = gguf.metadata
        func field(_ key: String) -> String { "\(gguf.path): \(key)" }
        func require<T>(_ key: String, _ expected: String, _ read: (GGUFValue) -> T?) throws -> T {
            guard let value = metadata[key] else { throw TokenizerError.missingField(field: field(key)) }
            guard let result = read(value) else {
                throw TokenizerError.wrongType(field: field(key), expected: "\(expected), found \(value.typeDescription)")
            }
            return result
        }
        func optional<T>(_ key: String, _ expected: String, _ read: (GGUFValue) -> T?) throws -> T? {
            metadata[key] == nil ? nil : try require(key, expected, read)
        }

        let model = try require("tokenizer.ggml.model", "a string") { $0.string }
        guard model == "llama" else {
            throw TokenizerError.unsupportedComponent(field: field("tokenizer.ggml.model"), type: model)
        }
        let tokens = try require("tokenizer.ggml.tokens", "an array of strings") { $0.strings }
        let scores = try optional("tokenizer.ggml.scores", "an array of numbers") { $0.floats }
            ?? [Float](repeating: 0, count: tokens.count)
        let types = try optional("tokenizer.ggml.token_type", "an array of integers") { value in
            value.ints.map { $0.map { Int32(clamping: $0) } }
        } ?? [Int32](repeating: TokenType.normal.rawValue, count: tokens.count)
        // Defaults as llama.cpp's for SentencePiece vocabularies.
        let bos = try optional("tokenizer.ggml.bos_token_id", "an integer") { $0.int } ?? 1
        let eos = try optional("tokenizer.ggml.eos_token_id", "an integer") { $0.int } ?? 2
        let unk = try optional("tokenizer.ggml.unknown_token_id", "an integer") { $0.int } ?? 0
        let pad = try optional("tokenizer.ggml.padding_token_id", "an integer") { $0.int }
        let addBOS = try optional("tokenizer.ggml.add_bos_token", "a bool") { $0.bool } ?? true
        let addSpacePrefix = try optional("tokenizer.ggml.add_space_prefix", "a bool") { $0.bool } ?? true
        do {
            try self.init(tokens: tokens, scores: scores, types: types, bosID: bos, eosID: eos,
                          unknownID: unk, padID: pad, addBOS: addBOS, addSpacePrefix: addSpacePrefix)
        } catch let TokenizerError.invalidValue(key, message) {
            throw TokenizerError.invalidValue(field: field(key), message: message)
        }
    }
}
