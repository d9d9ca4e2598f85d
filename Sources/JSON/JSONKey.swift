#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An object key in a hash index, equal to another only when their UTF-8 bytes are. A `[String: Int]`
/// would merge "é" (U+00E9) and "e\u{301}", which Swift's `==` holds canonically equivalent: a
/// tokenizer.json vocabulary has both as separate pieces (two keys in, one out, checked on Linux).
struct JSONKey: Hashable {
    let string: String

    static func == (a: JSONKey, b: JSONKey) -> Bool { utf8Equal(a.string, b.string) }

    /// Byte-equal strings are canonically equal, so String's own hash is consistent with `==`.
    func hash(into hasher: inout Hasher) { hasher.combine(string) }
}

/// Whether two strings have the same UTF-8 bytes (Swift's `==` compares canonical equivalence).
/// The lengths, known without a scan for native strings, settle most unequal pairs.
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
}
