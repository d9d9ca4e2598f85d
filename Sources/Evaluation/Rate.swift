// Rounds as CPython's `round(x, 4)` does (Objects/floatobject.c, `double_round`): the exact binary
// value of the double is rounded to 4 decimal places, a tie going to the even digit, and the decimal
// result read back as the nearest double. The gate's figures were rounded that way when the rule was
// a Python script; rounding the same way keeps its decisions on the same inputs the same.

/// Shares as the gate reports them: count / total, rounded to 4 decimal places.
public enum Rate {
    /// `count / total` rounded to 4 places; nil when `total` is 0 (no questions, no rate).
    public static func of(_ count: Int, in total: Int) -> Double? {
        guard total > 0 else { return nil }
        return rounded(Double(count) / Double(total))
    }

    /// `value` rounded to 4 decimal places, ties to even on its exact binary value.
    ///
    /// `(value * 10_000).rounded() / 10_000` differs: the product is itself rounded, and `.rounded()`
    /// sends ties away from zero, so 1/32 = 0.03125 would become 0.0313 where Python says 0.0312.
    /// Values outside [0, 1e12] and non-finite ones are returned unchanged (rates lie in [0, 1]).
    public static func rounded(_ value: Double) -> Double {
        guard value.isFinite, value > 0, value <= 1e12 else { return value }
        guard value.isNormal else { return 0 }
        // value = m * 2^e exactly, with m a 53-bit integer.
        let m = value.significandBitPattern | (1 << 52)
        let e = Int(value.exponent) - 52
        guard e < 0 else { return value }
        let shift = -e
        // value * 10^4 = P / 2^shift with P = m * 10^4 < 2^67, held as (high, low).
        let (high, low) = m.multipliedFullWidth(by: 10_000)
        let quotient: UInt64
        let remainder: (high: UInt64, low: UInt64)
        if shift >= 128 {
            quotient = 0
            remainder = (high, low)
        } else if shift >= 64 {
            quotient = high >> UInt64(shift - 64)
            remainder = (shift == 64 ? 0 : high & ((1 << UInt64(shift - 64)) - 1), low)
        } else {
            quotient = (high << UInt64(64 - shift)) | (low >> UInt64(shift))
            remainder = (0, low & ((1 << UInt64(shift)) - 1))
        }
        // Half a unit of the last place, 2^(shift - 1), against the remainder.
        let half: (high: UInt64, low: UInt64)
        if shift - 1 >= 128 {
            return Double(quotient) / 10_000
        } else if shift - 1 >= 64 {
            half = (1 << UInt64(shift - 65), 0)
        } else {
            half = (0, 1 << UInt64(shift - 1))
        }
        let above = remainder.high > half.high || (remainder.high == half.high && remainder.low > half.low)
        let tie = remainder == half
        let rounded = above || (tie && quotient & 1 == 1) ? quotient + 1 : quotient
        return Double(rounded) / 10_000
    }
}
