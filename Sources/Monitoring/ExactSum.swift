/// The exact sum of a set of doubles, held as a non-overlapping expansion (Shewchuk's "adaptive
/// precision floating-point arithmetic"; Python's `math.fsum` keeps its sum the same way), and read
/// out rounded once, to nearest-even.
///
/// The value read out depends only on which numbers were added, not on their order or on how they
/// were grouped: adding two sums together (`add(_: ExactSum)`) is exact. That is what makes a
/// window's mean the same to the last bit whether one process saw every record or several partitions
/// each saw some (docs/windows.md, "Exact sums").
///
/// Holds for finite values whose sum stays below about 1e308; a sum that overflows reads as ±infinity
/// or NaN (and a window statistic then as null).
public struct ExactSum: Equatable, Sendable {
    /// Non-overlapping components, smallest magnitude first; their exact sum is the sum.
    public private(set) var partials: [Double] = []

    public init() {}

    /// The sum of `values` (any finite doubles, such as the components of another sum).
    public init<S: Sequence>(_ values: S) where S.Element == Double {
        for value in values { add(value) }
    }

    /// Adds `value` exactly.
    public mutating func add(_ value: Double) {
        // The common case (whole numbers, or a sum still exact in one double): one exact addition.
        if partials.count == 1 {
            let y = partials[0]
            let high = value + y
            let error = abs(value) >= abs(y) ? y - (high - value) : value - (high - y)
            if error == 0 {
                partials[0] = high
                return
            }
        }
        var x = value
        var kept = 0
        for j in partials.indices {
            var y = partials[j]
            if abs(x) < abs(y) { swap(&x, &y) }
            let high = x + y
            let low = y - (high - x)
            if low != 0 {
                partials[kept] = low
                kept += 1
            }
            x = high
        }
        if kept < partials.count { partials.removeLast(partials.count - kept) }
        partials.append(x)
    }

    /// Adds the product `a · b` exactly (as its rounded product and that product's rounding error,
    /// found with one fused multiply-add), unless the error underflows (|a · b| below about 1e-290).
    public mutating func addProduct(_ a: Double, _ b: Double) {
        let product = a * b
        add(product)
        add((-product).addingProduct(a, b))
    }

    /// Adds every component of another sum: the result is the exact sum of both.
    public mutating func add(_ other: ExactSum) {
        for value in other.partials { add(value) }
    }

    /// The sum rounded to the nearest double (ties to even).
    public var value: Double {
        var i = partials.count
        guard i > 0 else { return 0 }
        i -= 1
        var high = partials[i]
        var low = 0.0
        // Add from the largest component down until a rounding error appears.
        while i > 0 {
            i -= 1
            let x = high, y = partials[i]
            high = x + y
            low = y - (high - x)
            if low != 0 { break }
        }
        // high + low is exact; when the remaining components push low past a half-way point, round
        // the other way.
        if i > 0 && ((low < 0 && partials[i - 1] < 0) || (low > 0 && partials[i - 1] > 0)) {
            let y = low * 2
            let x = high + y
            if y == x - high { high = x }
        }
        return high
    }

    /// The mean `sum / n`, nil when n is 0.
    public static func mean(_ sum: ExactSum, _ n: Int) -> Double? {
        n > 0 ? sum.value / Double(n) : nil
    }

    /// The sample variance (n − 1 in the denominator) of n values whose sum and sum of squares
    /// (`addProduct(x, x)` for each) are given: (n Σx² − (Σx)²) / (n (n − 1)), with the numerator
    /// computed exactly and rounded once. Nil below two values.
    public static func sampleVariance(n: Int, sum: ExactSum, squares: ExactSum) -> Double? {
        guard n >= 2 else { return nil }
        return scatter(n: n, sum: sum, squares: squares) / (Double(n) * Double(n - 1))
    }

    /// The population variance (n in the denominator), computed the same way; nil when n is 0.
    public static func populationVariance(n: Int, sum: ExactSum, squares: ExactSum) -> Double? {
        guard n >= 1 else { return nil }
        return scatter(n: n, sum: sum, squares: squares) / (Double(n) * Double(n))
    }

    /// n Σx² − (Σx)², exactly, rounded once (never below 0).
    private static func scatter(n: Int, sum: ExactSum, squares: ExactSum) -> Double {
        let count = Double(n)
        var numerator = ExactSum()
        for q in squares.partials { numerator.addProduct(count, q) }
        for a in sum.partials {
            for b in sum.partials { numerator.addProduct(-a, b) }
        }
        return max(0, numerator.value)
    }

    /// The sum and the sum of squares of `values`.
    public static func moments(_ values: [Double]) -> (sum: ExactSum, squares: ExactSum) {
        var sum = ExactSum(), squares = ExactSum()
        for v in values {
            sum.add(v)
            squares.addProduct(v, v)
        }
        return (sum, squares)
    }
}
