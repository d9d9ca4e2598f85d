/// An ordered dictionary of JSON members: keys keep their insertion order, so unknown fields of a record
/// pass through a tool unchanged and in place, and new fields are appended at the end. Keys are told
/// apart by their UTF-8 bytes (`JSONKey`), never by Swift's canonical equivalence.
///
/// A member read by `JSONParser` whose text the serializer would not write the same way (a string
/// with an escape the serializer spells otherwise: `\u00e9`, `\/`, `\u0041`, an upper-case `\u001F`,
/// in the key or anywhere in the value) keeps its source text, which the serializer writes instead,
/// until the member is set or removed: unknown fields pass through a filter byte for byte. Equality
/// and hashing ignore it.
///
/// Records have a dozen or so fields, where a linear scan over contiguous keys beats hashing; a hash
/// index is built only once an object grows past `indexThreshold` members, which keeps lookups O(1) on
/// average for large objects without paying for a dictionary on every small record.
public struct JSONObject: Hashable, Sendable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var index: [JSONKey: Int]? = nil
    /// The source text (`"key":value`, without the whitespace around the colon) of members whose
    /// serialization would differ from it; nil while no member has one.
    private(set) var verbatim: [String?]? = nil

    static let indexThreshold = 16

    public init() {}

    /// Builds an object from key/value pairs; a repeated key keeps its first position and last value.
    public init(_ pairs: [(String, JSONValue)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The position of `key`, or nil.
    public func position(of key: String) -> Int? {
        if let index { return index[JSONKey(string: key)] }
        return keys.firstIndex { utf8Equal($0, key) }
    }

    public func contains(_ key: String) -> Bool { position(of: key) != nil }

    /// Gets a member, or sets it: a new key is appended, an existing key keeps its position,
    /// and assigning `nil` removes the key.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return values[i]
        }
        set {
            if let newValue {
                if let i = position(of: key) {
                    values[i] = newValue
                    if verbatim != nil { verbatim![i] = nil }
                } else {
                    appendUnchecked(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes a member, returning its value. The other members keep their order.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        keys.remove(at: i)
        let old = values.remove(at: i)
        if verbatim != nil { verbatim!.remove(at: i) }
        if index != nil {
            if keys.count > Self.indexThreshold { rebuildIndex() } else { index = nil }
        }
        return old
    }

    /// Appends a member without checking for an existing key; the parser uses it after it has checked.
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        verbatim?.append(nil)
        if index != nil {
            index![JSONKey(string: key)] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Sets member `i`'s source text (the parser, for a member it just appended or replaced).
    mutating func setVerbatim(_ text: String?, at i: Int) {
        if verbatim == nil {
            guard text != nil else { return }
            verbatim = Array(repeating: nil, count: keys.count)
        }
        verbatim![i] = text
    }

    mutating func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    private mutating func rebuildIndex() {
        var map = [JSONKey: Int](minimumCapacity: keys.count)
        for (i, key) in keys.enumerated() { map[JSONKey(string: key)] = i }
        index = map
    }

    /// Members in order.
    public var members: [(key: String, value: JSONValue)] {
        zip(keys, values).map { (key: $0, value: $1) }
    }

    /// Follows a dotted path (`metrics.faithfulness.mean`) through nested objects.
    public func value(atPath path: String) -> JSONValue? {
        JSONValue.object(self).value(atPath: path)
    }

    // Equality and hashing look at members in order: two objects with the same members in a
    // different order are different records as far as a byte-preserving filter is concerned.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.keys.count == rhs.keys.count && zip(lhs.keys, rhs.keys).allSatisfy(utf8Equal) && lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(keys)
        hasher.combine(values)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> AnyIterator<(key: String, value: JSONValue)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (key: keys[i], value: values[i])
        }
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String { JSONSerializer.string(.object(self)) }
}
