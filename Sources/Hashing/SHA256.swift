// SHA-256 for the tools: webhook signatures (through HMAC), content-addressed caches (judge verdicts
// keyed by the hash of a prompt), adapter digests and deterministic sampling by hash. The hashing is
// swift-crypto's (BoringSSL on Linux, CryptoKit on Apple platforms); this type only gives it the
// project's digest type, which prints as lowercase hex and reads as a number for sampling.
import Crypto

/// A streaming SHA-256 hasher: feed bytes with `update` as they arrive, then call `finalize`.
///
/// Streaming matters because the inputs can be large (model files, adapter archives) and are read in
/// chunks; hashing them never needs the whole input in memory.
///
/// ```swift
/// var hasher = SHA256()
/// hasher.update("abc")
/// let hex = hasher.finalize().hex   // "ba7816bf..."
/// ```
public struct SHA256: Sendable {
    /// Length of a digest in bytes (256 bits).
    public static let digestByteCount = Crypto.SHA256.byteCount
    /// Length of the message block the compression function consumes (512 bits).
    public static let blockByteCount = Crypto.SHA256.blockByteCount

    private var hasher = Crypto.SHA256()

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// Adds the UTF-8 encoding of `text`.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of everything added so far; the hasher is left unchanged.
    public func finalize() -> SHA256Digest {
        SHA256Digest(bytes: Array(hasher.finalize()))
    }

    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> SHA256Digest where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func hash(_ text: String) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(text)
        return hasher.finalize()
    }
}
