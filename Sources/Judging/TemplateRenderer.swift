/// Fills `{name}` placeholders in a custom judge template. Only identifiers in braces count as
/// placeholders, so a template may show JSON (`{"score": 1}`) without escaping.
public enum TemplateRenderer {
    /// The placeholders a template may use.
    public static let knownPlaceholders: Set<String> = ["question", "answer", "reference", "context", "answer_a", "answer_b"]

    /// The distinct placeholder names in `template`, in order of first appearance.
    public static func placeholders(in template: String) -> [String] {
        var names: [String] = []
        forEachPlaceholder(in: template) { name, _ in
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// `template` with each optional section kept or dropped (`sections`), then each placeholder
    /// replaced by `values[name]`; names without a value stay as written.
    public static func render(_ template: String, values: [String: String]) -> String {
        fill(sections(template, present: { values[$0] != nil }), values: values)
    }

    /// An optional section, `{?name}text{/name}`: the text (placeholders included) is kept, without
    /// the markers, when the record has the field `name`, and dropped with its markers when it has
    /// not. Sections do not nest. A node's template uses one for a reference answer that production
    /// records lack (examples/judges/README.md, "Nodes").
    public struct Section: Equatable, Sendable {
        public var name: String
        /// The text between the markers.
        public var body: String
    }

    /// A template's optional sections in order, or a message naming the first malformed one (a
    /// `{?name}` with no `{/name}` after it, a `{/name}` with no opening, a section inside another).
    public static func optionalSections(in template: String) -> Result<[Section], TemplateError> {
        var found: [Section] = []
        var rest = template[...]
        while let open = nextMarker(in: rest) {
            guard open.opening else { return .failure(TemplateError("{/\(open.name)} closes no {?\(open.name)}")) }
            let after = rest[open.range.upperBound...]
            guard let close = nextMarker(in: after), !close.opening, close.name == open.name else {
                if let inner = nextMarker(in: after), inner.opening {
                    return .failure(TemplateError("{?\(inner.name)} opens inside {?\(open.name)}; sections do not nest"))
                }
                return .failure(TemplateError("{?\(open.name)} has no {/\(open.name)} after it"))
            }
            found.append(Section(name: open.name, body: String(after[..<close.range.lowerBound])))
            rest = after[close.range.upperBound...]
        }
        return .success(found)
    }

    /// A malformed optional section.
    public struct TemplateError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The placeholders outside every optional section: the fields a record must have.
    public static func requiredPlaceholders(in template: String) -> [String] {
        placeholders(in: sections(template, present: { _ in false }))
    }

    /// `template` with each well-formed section's body kept when `present(name)`, else dropped.
    static func sections(_ template: String, present: (String) -> Bool) -> String {
        var out = ""
        var rest = template[...]
        while let open = nextMarker(in: rest), open.opening,
              let close = nextMarker(in: rest[open.range.upperBound...]), !close.opening, close.name == open.name {
            out += rest[..<open.range.lowerBound]
            if present(open.name) { out += rest[open.range.upperBound..<close.range.lowerBound] }
            rest = rest[close.range.upperBound...]
        }
        return out + rest
    }

    /// The first `{?name}` or `{/name}` marker in `text`.
    private static func nextMarker(in text: Substring) -> (name: String, opening: Bool, range: Range<String.Index>)? {
        var i = text.startIndex
        while let open = text[i...].firstIndex(of: "{") {
            let kind = text.index(after: open)
            guard kind < text.endIndex else { return nil }
            if text[kind] == "?" || text[kind] == "/" {
                let nameStart = text.index(after: kind)
                var j = nameStart
                while j < text.endIndex, text[j].isASCII, text[j].isLetter || text[j].isNumber || text[j] == "_" {
                    j = text.index(after: j)
                }
                if j > nameStart, j < text.endIndex, text[j] == "}" {
                    return (String(text[nameStart..<j]), text[kind] == "?", open..<text.index(after: j))
                }
            }
            i = kind
        }
        return nil
    }

    private static func fill(_ template: String, values: [String: String]) -> String {
        var out = ""
        var last = template.startIndex
        forEachPlaceholder(in: template) { name, range in
            out += template[last..<range.lowerBound]
            out += values[name] ?? String(template[range])
            last = range.upperBound
        }
        out += template[last...]
        return out
    }

    private static func forEachPlaceholder(in template: String, _ body: (String, Range<String.Index>) -> Void) {
        var i = template.startIndex
        while let open = template[i...].firstIndex(of: "{") {
            let nameStart = template.index(after: open)
            var j = nameStart
            while j < template.endIndex, template[j].isASCII, template[j].isLetter || template[j].isNumber || template[j] == "_" {
                j = template.index(after: j)
            }
            if j > nameStart, j < template.endIndex, template[j] == "}" {
                body(String(template[nameStart..<j]), open..<template.index(after: j))
                i = template.index(after: j)
            } else {
                i = nameStart
            }
        }
    }
}
