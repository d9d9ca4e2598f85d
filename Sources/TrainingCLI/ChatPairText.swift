import Gemma
import Records

// TRL's conversational preference rows (prompt, chosen and rejected as lists of {role, content}
// messages) rendered by Gemma's one chat renderer (`ChatTemplate`, docs/gemma.md, "Chat template"),
// so that they tokenise as the text form does: the prompt ends with the opening of the model's
// turn, and each response is the rest of the conversation, the model's message closed by
// <end_of_turn>.

/// Turns one field of a preference row, a string or a list of chat messages, into text.
enum ChatPairText {
    /// The prompt: a string as is; messages as `ChatTemplate.render` writes them (system and
    /// developer messages folded into the next user turn), ending with the opening of the model's turn.
    static func prompt(_ value: JSONValue, field: String) throws -> String {
        if let s = value.string { return s }
        let messages = try self.messages(value, field: field)
        return try rendered(field) { try ChatTemplate.render(messages) }
    }

    /// A response: a string as is; messages as the model's turn (already opened by the prompt)
    /// and any further turns.
    static func response(_ value: JSONValue, field: String) throws -> String {
        if let s = value.string { return s }
        let messages = try self.messages(value, field: field)
        return try rendered(field) { try ChatTemplate.renderReply(messages) }
    }

    /// The renderer's complaint about a conversation, as an error of the pair's field.
    private static func rendered(_ field: String, _ render: () throws -> String) throws -> String {
        do {
            return try render()
        } catch let GemmaError.invalidParameter(name, message) {
            throw PairInputError.field(field, "\(name): \(message)")
        }
    }

    /// The field's list of messages, each with string `role` and `content`.
    private static func messages(_ value: JSONValue, field: String) throws -> [ChatMessage] {
        guard let list = value.array else {
            throw PairInputError.field(field, "must be a string or a list of messages, found \(value.kindName)")
        }
        guard !list.isEmpty else { throw PairInputError.field(field, "the list of messages is empty") }
        return try list.enumerated().map { i, item in
            guard let role = item["role"]?.string, let content = item["content"]?.string else {
                throw PairInputError.field(field, "message \(i) needs string fields 'role' and 'content'")
            }
            return ChatMessage(role: role, content: content)
        }
    }
}
