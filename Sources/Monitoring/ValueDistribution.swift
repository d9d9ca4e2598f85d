import Foundation

/// A mergeable summary of a window's values of one field, for percentiles and drift after merging
/// partial windows (docs/windows.md, "Value distributions").
///
/// While the values have at most `exactLimit` distinct values it keeps each distinct value with its
/// count: the multiset itself, so percentiles and drift come out exactly as from the raw values.
/// Beyond that it becomes a DDSketch (Masson, Rim and Lee, "DDSketch: A Fast and Fully-Mergeable
/// Quantile Sketch with Relative-Error Guarantees", VLDB 2019): each value x ≠ 0 goes to the bucket
/// i = ⌈log_γ |x|⌉ of its sign, γ = (1 + α) / (1 − α), and stands for (1 − α) γ^i, within a factor
/// α of x; zeros are counted apart. The exact minimum and maximum are kept: they stand for the
/// smallest and largest value, and a bucket's value is clamped to them. Buckets are never collapsed, so there are at most a few hundred for values
/// spanning several orders of magnitude (ln(range) / ln γ).
///
/// Merging adds counts value by value or bucket by bucket; the result depends only on the union of
/// the values merged: exact when it has at most the smallest `exactLimit` of the parts distinct
/// values, else the sketch of all of them.
public struct ValueDistribution: Equatable, Sendable {
    /// α, the relative accuracy of a bucket's value.
    public static let relativeAccuracy = 0.01
    /// Distinct values kept exactly before the summary becomes a sketch.
    public static let defaultExactLimit = 2048

    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)

    public private(set) var count = 0
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = -Double.infinity
    public let exactLimit: Int
    /// Distinct values and their counts; nil once there were too many (then the buckets hold them).
    public private(set) var exact: [Double: Int]? = [:]
    public private(set) var positive: [Int: Int] = [:]
    public private(set) var negative: [Int: Int] = [:]
    public private(set) var zeros = 0

    public init(exactLimit: Int = ValueDistribution.defaultExactLimit) {
        self.exactLimit = exactLimit
    }

    /// The distribution of `values`.
    public init(_ values: [Double], exactLimit: Int = ValueDistribution.defaultExactLimit) {
        self.exactLimit = exactLimit
        for value in values { add(value) }
    }

    /// Whether the summary still holds the values themselves.
    public var isExact: Bool { exact != nil }

    /// The bucket of |x| (x ≠ 0, finite).
    static func bucket(_ magnitude: Double) -> Int {
        Int((log(magnitude) / logGamma).rounded(.up))
    }

    /// The value a bucket stands for, before clamping to the minimum and maximum.
    static func bucketValue(_ index: Int) -> Double {
        (1 - relativeAccuracy) * exp(Double(index) * logGamma)
    }

    /// Adds `count` copies of a finite value.
    public mutating func add(_ value: Double, count n: Int = 1) {
        guard n > 0 else { return }
        count += n
        minimum = min(minimum, value)
        maximum = max(maximum, value)
        if exact != nil {
            exact![value, default: 0] += n
            if exact!.count > exactLimit { becomeSketch() }
        } else {
            addToBucket(value, count: n)
        }
    }

    private mutating func addToBucket(_ value: Double, count n: Int) {
        if value > 0 {
            positive[Self.bucket(value), default: 0] += n
        } else if value < 0 {
            negative[Self.bucket(-value), default: 0] += n
        } else {
            zeros += n
        }
    }

    private mutating func becomeSketch() {
        guard let values = exact else { return }
        exact = nil
        for (value, n) in values { addToBucket(value, count: n) }
    }

    /// An empty sketch with the given extremes, to be filled with `addBucket` (reading a partial record).
    static func sketch(minimum: Double, maximum: Double, exactLimit: Int) -> ValueDistribution {
        var d = ValueDistribution(exactLimit: exactLimit)
        d.exact = nil
        d.minimum = minimum
        d.maximum = maximum
        return d
    }

    /// Adds `n` values to a sketch's bucket (sign 0: zeros).
    mutating func addBucket(sign: Int, index: Int, count n: Int) {
        guard n > 0 else { return }
        count += n
        switch sign {
        case 1: positive[index, default: 0] += n
        case -1: negative[index, default: 0] += n
        default: zeros += n
        }
    }

    /// Adds every value of another distribution.
    public mutating func merge(_ other: ValueDistribution) {
        guard other.count > 0 else { return }
        let limit = min(exactLimit, other.exactLimit)
        if limit < exactLimit {
            var narrowed = ValueDistribution(exactLimit: limit)
            narrowed.merge(self)
            self = narrowed
        }
        count += other.count
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        if let theirs = other.exact {
            if exact != nil {
                for (value, n) in theirs { exact![value, default: 0] += n }
                if exact!.count > limit { becomeSketch() }
            } else {
                for (value, n) in theirs { addToBucket(value, count: n) }
            }
        } else {
            becomeSketch()
            for (i, n) in other.positive { positive[i, default: 0] += n }
            for (i, n) in other.negative { negative[i, default: 0] += n }
            zeros += other.zeros
        }
    }

    /// The distinct values (or bucket values, clamped to the minimum and maximum) in increasing
    /// order, with their counts.
    public func sortedCounts() -> [(value: Double, count: Int)] {
        if let exact {
            return exact.sorted { $0.key < $1.key }.map { (value: $0.key, count: $0.value) }
        }
        func clamp(_ v: Double) -> Double { Swift.min(Swift.max(v, minimum), maximum) }
        var out: [(value: Double, count: Int)] = []
        for (i, n) in negative.sorted(by: { $0.key > $1.key }) { out.append((clamp(-Self.bucketValue(i)), n)) }
        if zeros > 0 { out.append((clamp(0), zeros)) }
        for (i, n) in positive.sorted(by: { $0.key < $1.key }) { out.append((clamp(Self.bucketValue(i)), n)) }
        return out
    }

    /// The values in increasing order, each repeated as often as it occurs (for a sketch, bucket
    /// values, with the smallest and largest replaced by the exact minimum and maximum).
    public func values() -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count)
        for (value, n) in sortedCounts() { out.append(contentsOf: repeatElement(value, count: n)) }
        if !out.isEmpty {
            // The extremes are known exactly.
            out[0] = minimum
            out[out.count - 1] = maximum
        }
        return out
    }

    /// The `q` quantiles by linear interpolation between closest ranks, as
    /// `SampleStatistics.quantile`: exact while the summary is exact; for a sketch, within a factor
    /// α of the exact quantile when the values have one sign (docs/windows.md, "Error bounds").
    public func quantiles(_ qs: [Double]) -> [Double?] {
        guard count > 0 else { return qs.map { _ in nil } }
        let counts = sortedCounts()
        // Cumulative counts: ranks below ends[k] are counts[k]'s value.
        var ends: [Int] = []
        ends.reserveCapacity(counts.count)
        var total = 0
        for item in counts {
            total += item.count
            ends.append(total)
        }
        func value(atRank rank: Int) -> Double {
            // The extremes are known exactly.
            if rank == 0 { return minimum }
            if rank == count - 1 { return maximum }
            var low = 0, high = ends.count - 1
            while low < high {
                let mid = (low + high) / 2
                if ends[mid] > rank { high = mid } else { low = mid + 1 }
            }
            return counts[low].value
        }
        return qs.map { SampleStatistics.quantile(count: count, $0, value: value(atRank:)) }
    }
}
