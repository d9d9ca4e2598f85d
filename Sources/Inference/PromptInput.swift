import Gemma
import Records
import Tokenizers

/// What a record asks the model: a `question` (chat format applied), a raw `prompt` (BOS added),
/// or OpenAI-style `messages`.
public enum PromptInput: Sendable, Equatable {
    case question(String)
    case prompt(String)
    case messages([ChatMessage])
    /// `messages` whose last, an assistant's, is continued rather than answered (the record's
    /// `continue_final_message: true`, as vLLM's chat API names it).
    case continuation([ChatMessage])

    /// Reads the input of a record; `questionField` renames the question field.
    public init(record r: JSONObject, questionField: String = "question") throws {
        if let v = r["messages"], !v.isNull {
            let messages = try PromptInput.messages(v)
            switch r["continue_final_message"] {
            case nil, .null?, .bool(false)?: self = .messages(messages)
            case .bool(true)?: self = .continuation(messages)
            case let other?:
                throw RecordError("field 'continue_final_message' must be a boolean, got \(other.kindName)")
            }
        } else if let v = r[questionField], !v.isNull {
            guard let q = v.string else {
                throw RecordError("field '\(questionField)' must be a string, got \(v.kindName)")
            }
            self = .question(q)
        } else if let v = r["prompt"], !v.isNull {
            guard let p = v.string else { throw RecordError("field 'prompt' must be a string, got \(v.kindName)") }
            self = .prompt(p)
        } else {
            throw RecordError("record has none of the fields '\(questionField)', 'prompt', 'messages'")
        }
    }

    /// OpenAI-style `messages` read as chat messages (text content parts joined with newlines);
    /// errors name the message and part.
    public static func messages(_ v: JSONValue) throws -> [ChatMessage] {
        guard let items = v.array else { throw RecordError("field 'messages' must be an array, got \(v.kindName)") }
        return try items.enumerated().map { i, item in
            guard let m = item.object else {
                throw RecordError("field 'messages[\(i)]' must be an object, got \(item.kindName)")
            }
            guard let role = m["role"]?.string else { throw RecordError("field 'messages[\(i)].role' must be a string") }
            let content: String
            switch m["content"] {
            case .string(let s)?: content = s
            case .array(let parts)?:
                // OpenAI content parts: text parts are joined; other kinds cannot reach a text model.
                content = try parts.enumerated().map { j, part in
                    guard part["type"]?.string == "text", let t = part["text"]?.string else {
                        throw RecordError("field 'messages[\(i)].content[\(j)]' must be a text part")
                    }
                    return t
                }.joined(separator: "\n")
            default: throw RecordError("field 'messages[\(i)].content' must be a string")
            }
            return ChatMessage(role: role, content: content)
        }
    }

    /// Bytes of text in the prompt (the chat template's own text not counted).
    public var textBytes: Int {
        switch self {
        case .prompt(let text), .question(let text): return text.utf8.count
        case .messages(let msgs), .continuation(let msgs): return msgs.reduce(0) { $0 + $1.content.utf8.count }
        }
    }

    /// The prompt's token ids for `model`. A prompt whose text alone needs more tokens than the
    /// context holds (at most `longestTokenBytes` bytes per token) is refused before tokenizing,
    /// so a 50 MB question costs a byte count, not minutes of tokenizing.
    public func tokenIDs(for model: LoadedModel, system: String?) throws -> [Int] {
        var bytes = textBytes
        if case .question = self { bytes += system?.utf8.count ?? 0 }
        let context = model.model.config.contextLength
        // No token stands for less than a byte, so only a text of more bytes than the context can hold
        // needs the bound (and the vocabulary scan behind it).
        if bytes > context, bytes / model.longestTokenBytes > context {
            let leastTokens = bytes / model.longestTokenBytes
            throw RecordError("the prompt's \(bytes) bytes need at least \(leastTokens) tokens (no token covers more than "
                + "\(model.longestTokenBytes) bytes), more than the context of \(context); not tokenized")
        }
        let tok = model.tokenizer
        switch self {
        case .prompt(let text):
            return tok.encode(text, addBOS: true, parseSpecial: true)
        case .question(let q):
            var msgs = [ChatMessage(role: "user", content: q)]
            if let system { msgs.insert(ChatMessage(role: "system", content: system), at: 0) }
            return try ChatTemplate(tokenizer: tok).encode(msgs, tokenizer: tok)
        case .messages(let msgs):
            return try ChatTemplate(tokenizer: tok).encode(msgs, tokenizer: tok)
        case .continuation(let msgs):
            return try ChatTemplate(tokenizer: tok).encode(msgs, tokenizer: tok, continuingFinal: true)
        }
    }
}
