import Records

// TRL's conversational preference rows (prompt, chosen and rejected as lists of {role, content}
// messages) rendered as Gemma's chat template renders them (docs/gemma.md, "Chat template"), so
// that they tokenise as the text form does: the prompt ends with the opening of the model's turn,
// and each response is the rest of the conversation, the model's message closed by <end_of_turn>.

/// Turns one field of a preference row, a string or a list of chat messages, into text.
enum ChatPairText {
    /// The prompt: a string as is; messages rendered as turns, a system message folded into the
    /// first user turn with a blank line, then the opening of the model's turn.
    static func prompt(_ value: JSONValue, field: String) throws -> String {
        if let s = value.string { return s }
        var messages = try self.messages(value, field: field)
        if messages.first?.role == "system" {
            let system = messages.removeFirst()
            guard !messages.isEmpty, messages[0].role == "user" else {
                throw PairInputError.field(field, "a system message must be followed by a user message")
            }
            messages[0].content = system.content + "\n\n" + messages[0].content
        }
        return messages.map(turn).joined() + "<start_of_turn>model\n"
    }

    /// A response: a string as is; messages as the model's turn (already opened by the prompt)
    /// and any further turns.
    static func response(_ value: JSONValue, field: String) throws -> String {
        if let s = value.string { return s }
        let messages = try self.messages(value, field: field)
        guard let first = messages.first, first.role == "model" else {
            throw PairInputError.field(field, "the first message must be the assistant's")
        }
        return first.content + "<end_of_turn>\n" + messages.dropFirst().map(turn).joined()
    }

    private static func turn(_ m: (role: String, content: String)) -> String {
        "<start_of_turn>\(m.role)\n\(m.content)<end_of_turn>\n"
    }

    /// The messages with `assistant` spelled `model`, as Gemma's template spells it.
    private static func messages(_ value: JSONValue, field: String) throws -> [(role: String, content: String)] {
        guard let list = value.array else {
            throw PairInputError.field(field, "must be a string or a list of messages, found \(value.kindName)")
        }
        guard !list.isEmpty else { throw PairInputError.field(field, "the list of messages is empty") }
        return try list.enumerated().map { i, item in
            guard let role = item["role"]?.string, let content = item["content"]?.string else {
                throw PairInputError.field(field, "message \(i) needs string fields 'role' and 'content'")
            }
            guard ["system", "user", "assistant", "model"].contains(role) else {
                throw PairInputError.field(field, "message \(i) has unknown role '\(role)'")
            }
            return (role == "assistant" ? "model" : role, content)
        }
    }
}
