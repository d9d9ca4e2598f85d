/// Summary statistics of a sample, with `nil` where the sample is too small to have one (never NaN):
/// a window without values reports `null`, not a number that breaks every downstream parser.
public enum SampleStatistics {
    /// The mean, from the exact sum rounded once (`ExactSum`), so that it does not depend on the
    /// order of the values: the same to the last bit as a mean merged from partial windows.
    public static func mean(_ values: [Double]) -> Double? {
        ExactSum.mean(ExactSum(values), values.count)
    }

    /// Sample standard deviation (n − 1 in the denominator, as pandas' `std()`); nil below two values.
    /// From exact sums of the values and their squares (`ExactSum.sampleVariance`), order-independent.
    public static func sampleStandardDeviation(_ values: [Double]) -> Double? {
        let moments = ExactSum.moments(values)
        return ExactSum.sampleVariance(n: values.count, sum: moments.sum, squares: moments.squares)?.squareRoot()
    }

    /// Population standard deviation (n in the denominator, as numpy's `std()`); nil when empty.
    public static func populationStandardDeviation(_ values: [Double]) -> Double? {
        let moments = ExactSum.moments(values)
        return ExactSum.populationVariance(n: values.count, sum: moments.sum, squares: moments.squares)?.squareRoot()
    }

    /// The `q` quantile (0...1) of sorted values by linear interpolation between closest ranks, the
    /// default of numpy's `percentile` and pandas' `quantile` (Hyndman–Fan type 7); nil when empty.
    public static func quantile(sorted values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        return quantile(count: values.count, q) { values[$0] }
    }

    /// The same quantile of `count` sorted values read through `value(rank)`, rank 0 the smallest.
    public static func quantile(count: Int, _ q: Double, value: (Int) -> Double) -> Double? {
        guard count > 0 else { return nil }
        let position = q * Double(count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, count - 1)
        let fraction = position - Double(lower)
        let low = value(lower)
        return low + (value(upper) - low) * fraction
    }
}
