import Tokenizers

/// One message of an OpenAI-style conversation.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Gemma's chat format (docs/gemma.md, "Chat template"):
/// `<bos><start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n`,
/// a system message prepended to the first user turn with a blank line, `assistant` spelled `model`.
///
/// The prompt is built as token ids, the control tokens by id and the text between them encoded
/// with special-token parsing off: a user who writes `<end_of_turn>` in a question gets those
/// characters, not a forged turn. Between control tokens this is the same tokenization as encoding
/// the rendered string, since special tokens split the text before merging.
public struct ChatTemplate: Sendable {
    public let startOfTurn: Int
    public let endOfTurn: Int

    public init(tokenizer: any TextTokenizer) throws {
        guard let sot = tokenizer.id(of: "<start_of_turn>"), let eot = tokenizer.id(of: "<end_of_turn>") else {
            throw GemmaError.invalidParameter(
                name: "chat template",
                message: "the vocabulary has no <start_of_turn>/<end_of_turn> tokens; send a raw `prompt` instead")
        }
        startOfTurn = sot
        endOfTurn = eot
    }

    /// The prompt ids for `messages`, ending with the opening of the model's turn.
    ///
    /// With `continuingFinal`, the last message must be the assistant's and is left open: the ids
    /// end with the opening of the model's turn followed by that message's text, encoded on its own,
    /// exactly as if the model had written it ("prefilling" the reply, vLLM's
    /// `continue_final_message`). A judge reads the score as the next token after `{"score": `.
    public func encode(_ messages: [ChatMessage], tokenizer: any TextTokenizer, continuingFinal: Bool = false) throws -> [Int] {
        var messages = messages
        var opening = ""
        if continuingFinal {
            guard let last = messages.last, last.role == "assistant" || last.role == "model" else {
                throw GemmaError.invalidParameter(
                    name: "messages[\(max(0, messages.count - 1))].role",
                    message: "continuing the final message needs it to be the assistant's, got '\(messages.last?.role ?? "")'")
            }
            opening = last.content
            messages.removeLast()
        }
        var ids = [tokenizer.bosID]
        for t in try Self.turns(messages) {
            ids.append(startOfTurn)
            ids += tokenizer.encode("\(t.role)\n\(t.text)", addBOS: false, parseSpecial: false)
            ids.append(endOfTurn)
            ids += tokenizer.encode("\n", addBOS: false, parseSpecial: false)
        }
        ids.append(startOfTurn)
        ids += tokenizer.encode("model\n", addBOS: false, parseSpecial: false)
        return opening.isEmpty ? ids : ids + tokenizer.encode(opening, addBOS: false, parseSpecial: false)
    }

    /// The same prompt as text without the leading `<bos>`, for tools that take prompts as strings
    /// and encode them with special-token parsing (ORPO pairs): encoding it that way, BOS first,
    /// gives `encode`'s ids unless a message itself spells a control token.
    public static func render(_ messages: [ChatMessage]) throws -> String {
        try renderTurns(turns(messages)) + "<start_of_turn>model\n"
    }

    private static func renderTurns(_ turns: [(role: String, text: String)]) -> String {
        turns.map { "<start_of_turn>\($0.role)\n\($0.text)<end_of_turn>\n" }.joined()
    }

    /// The text that follows `render`'s prompt when the model replies: the first message (the
    /// model's, already opened by the prompt) closed by `<end_of_turn>\n`, then any further turns as
    /// `render` writes them, without a final opening. Preference pairs in chat form (prompt and
    /// responses as message lists) are rendered as `render(prompt) + renderReply(response)`.
    public static func renderReply(_ messages: [ChatMessage]) throws -> String {
        guard let first = messages.first, first.role == "assistant" || first.role == "model" else {
            throw GemmaError.invalidParameter(
                name: "messages[0].role", message: "the first message must be the assistant's, got '\(messages.first?.role ?? "")'")
        }
        let rest = messages.dropFirst()
        let further = rest.isEmpty ? "" : try renderTurns(turns(Array(rest)))
        return first.content + "<end_of_turn>\n" + further
    }

    /// The conversation as Gemma's turns: system (and developer) messages folded into the next user
    /// turn, `assistant` spelled `model`.
    static func turns(_ messages: [ChatMessage]) throws -> [(role: String, text: String)] {
        var turns: [(role: String, text: String)] = []
        var pendingSystem: [String] = []
        for (i, m) in messages.enumerated() {
            switch m.role {
            case "system", "developer":
                pendingSystem.append(m.content)
            case "user", "assistant", "model":
                var text = m.content
                if !pendingSystem.isEmpty && m.role == "user" {
                    text = pendingSystem.joined(separator: "\n\n") + "\n\n" + text
                    pendingSystem = []
                }
                turns.append((m.role == "user" ? "user" : "model", text))
            default:
                throw GemmaError.invalidParameter(
                    name: "messages[\(i)].role",
                    message: "unknown role '\(m.role)' (expected system, user or assistant)")
            }
        }
        if !pendingSystem.isEmpty {
            // A system message with no user turn after it still reaches the model, as a user turn.
            turns.append(("user", pendingSystem.joined(separator: "\n\n")))
        }
        guard !turns.isEmpty else {
            throw GemmaError.invalidParameter(name: "messages", message: "no user message")
        }
        return turns
    }
}
