// HMAC-SHA256 (RFC 2104 with SHA-256; RFC 4231 has the test vectors), swift-crypto's, under the
// project's digest type.
import Crypto

/// A streaming HMAC-SHA256 authenticator, used to sign webhook bodies so that a receiver can check
/// that an alert came from this deployment and was not altered.
///
/// ```swift
/// let tag = HMACSHA256.authenticationCode(for: body, key: Array(secret.utf8))
/// request.headers.append(("X-FeedbackLoop-Signature", "sha256=" + tag.hex))
/// ```
public struct HMACSHA256: Sendable {
    private var mac: HMAC<Crypto.SHA256>

    /// Starts an authenticator keyed with `key` (any length; keys longer than 64 bytes are hashed
    /// first, as RFC 2104 §2 says).
    public init<Key: Sequence>(key: Key) where Key.Element == UInt8 {
        mac = HMAC<Crypto.SHA256>(key: SymmetricKey(data: Array(key)))
    }

    /// Adds message bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            mac.update(data: UnsafeRawBufferPointer(buffer))
        }
        if handled == nil { mac.update(data: Array(bytes)) }
    }

    /// Adds the UTF-8 encoding of `text` to the message.
    public mutating func update(_ text: String) {
        update(Array(text.utf8))
    }

    /// The authentication tag (32 bytes). The authenticator is left unchanged.
    public func finalize() -> SHA256Digest {
        SHA256Digest(bytes: Array(mac.finalize()))
    }

    /// The tag of `message` under `key` in one call.
    public static func authenticationCode<Message: Sequence, Key: Sequence>(
        for message: Message, key: Key
    ) -> SHA256Digest where Message.Element == UInt8, Key.Element == UInt8 {
        var mac = HMACSHA256(key: key)
        mac.update(message)
        return mac.finalize()
    }

    /// Whether `tag` is the correct tag of `message` under `key`, compared in constant time by
    /// swift-crypto. A truncated tag (RFC 4231 §4.6 allows at least 16 bytes) is checked against the
    /// same-length prefix of the full tag.
    public static func isValid<Message: Sequence, Key: Sequence>(
        tag: [UInt8], for message: Message, key: Key
    ) -> Bool where Message.Element == UInt8, Key.Element == UInt8 {
        let keyBytes = Array(key), messageBytes = Array(message)
        let symmetric = SymmetricKey(data: keyBytes)
        if tag.count == Crypto.SHA256.byteCount {
            return HMAC<Crypto.SHA256>.isValidAuthenticationCode(tag, authenticating: messageBytes, using: symmetric)
        }
        guard tag.count >= 16, tag.count < Crypto.SHA256.byteCount else { return false }
        let expected = Array(HMAC<Crypto.SHA256>.authenticationCode(for: messageBytes, using: symmetric).prefix(tag.count))
        // Constant time over the prefix: every byte is compared, whatever differs first.
        var difference: UInt8 = 0
        for index in 0..<tag.count { difference |= tag[index] ^ expected[index] }
        return difference == 0
    }
}
