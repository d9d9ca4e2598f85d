/// Strict UTF-8 validation (Unicode Table 3-7): no overlong forms, no surrogates, nothing above
/// U+10FFFF, no truncated sequences. ASCII, the common case, is checked eight bytes at a time.
public enum UTF8Validator {
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { isValidUTF8(bytes) }
}

@inline(__always)
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var i = 0
    while i + 8 <= count {
        let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if word & 0x8080_8080_8080_8080 != 0 { break }
        i += 8
    }
    while i < count {
        let b0 = base[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        func continuation(_ k: Int) -> Bool { i + k < count && base[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            guard continuation(1) else { return false }
            i += 2
        case 0xE0...0xEF:
            guard continuation(1), continuation(2) else { return false }
            let b1 = base[i + 1]
            if b0 == 0xE0 && b1 < 0xA0 { return false }  // overlong
            if b0 == 0xED && b1 > 0x9F { return false }  // surrogates
            i += 3
        case 0xF0...0xF4:
            guard continuation(1), continuation(2), continuation(3) else { return false }
            let b1 = base[i + 1]
            if b0 == 0xF0 && b1 < 0x90 { return false }  // overlong
            if b0 == 0xF4 && b1 > 0x8F { return false }  // above U+10FFFF
            i += 4
        default:
            return false
        }
    }
    return true
}
