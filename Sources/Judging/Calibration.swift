import Foundation
import Records

/// Agreement of a judge with human labels: accuracy, Cohen's kappa, the confusion matrix, per-class
/// precision and recall, and the majority-class baseline that any useful judge must beat.
///
/// Cohen's kappa (Cohen 1960): κ = (p_o − p_e) / (1 − p_e), where p_o is the observed agreement and
/// p_e the agreement expected by chance from the two sides' marginal frequencies; 0 is chance level,
/// 1 perfect agreement. It is reported as 0 when p_e is 1 (a single class on both sides).
public struct Calibration: Sendable {
    /// (human label, judge decision) pairs.
    public private(set) var pairs: [(label: String, predicted: String)] = []
    /// Records seen without a usable label or verdict, by reason.
    public private(set) var skipped: [String: Int] = [:]

    public init() {}

    public mutating func add(label: String, predicted: String) {
        pairs.append((label, predicted))
    }

    public mutating func skip(_ reason: String) {
        skipped[reason, default: 0] += 1
    }

    /// The classes present, in numeric order when they are numbers.
    public var classes: [String] {
        let all = Set(pairs.map(\.label) + pairs.map(\.predicted))
        return all.sorted { a, b in
            if let x = Double(a), let y = Double(b) { return x < y }
            return a < b
        }
    }

    public func count(label: String, predicted: String) -> Int {
        pairs.reduce(0) { $0 + ($1.label == label && $1.predicted == predicted ? 1 : 0) }
    }

    public var accuracy: Double? {
        pairs.isEmpty ? nil : Double(pairs.filter { $0.label == $0.predicted }.count) / Double(pairs.count)
    }

    public var cohensKappa: Double? {
        guard !pairs.isEmpty else { return nil }
        let n = Double(pairs.count)
        let observed = Double(pairs.filter { $0.label == $0.predicted }.count) / n
        var expected = 0.0
        for c in classes {
            let labelled = Double(pairs.filter { $0.label == c }.count) / n
            let predicted = Double(pairs.filter { $0.predicted == c }.count) / n
            expected += labelled * predicted
        }
        guard expected < 1 else { return 0 }
        return (observed - expected) / (1 - expected)
    }

    /// The most frequent human label and the accuracy of always answering it.
    public var majorityBaseline: (label: String, accuracy: Double)? {
        guard !pairs.isEmpty else { return nil }
        var counts: [String: Int] = [:]
        for p in pairs { counts[p.label, default: 0] += 1 }
        guard let best = counts.max(by: { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }) else { return nil }
        return (best.key, Double(best.value) / Double(pairs.count))
    }

    /// The report record: `{"calibration": {...}}`.
    public func report(metric: String, labelField: String, extra: JSONObject = [:]) -> JSONObject {
        func number(_ x: Double?) -> JSONValue { x.map { .double(($0 * 1e4).rounded() / 1e4) } ?? .null }
        var confusion = JSONObject()
        var perClass = JSONObject()
        for c in classes {
            confusion[c] = .object(JSONObject(classes.map { ($0, JSONValue(count(label: c, predicted: $0))) }))
            let truePositive = Double(count(label: c, predicted: c))
            let predicted = Double(pairs.filter { $0.predicted == c }.count)
            let support = pairs.filter { $0.label == c }.count
            perClass[c] = .object([
                "precision": number(predicted > 0 ? truePositive / predicted : nil),
                "recall": number(support > 0 ? truePositive / Double(support) : nil),
                "support": JSONValue(support),
            ])
        }
        var body: JSONObject = [
            "metric": .string(metric),
            "label_field": .string(labelField),
            "records": JSONValue(pairs.count + skipped.values.reduce(0, +)),
            "compared": JSONValue(pairs.count),
            "skipped": .object(JSONObject(skipped.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })),
            "accuracy": number(accuracy),
            "cohen_kappa": number(cohensKappa),
            "classes": .array(classes.map { .string($0) }),
            "confusion": .object(confusion),
            "confusion_note": "confusion[label][decision]: rows are the human labels, columns the judge's decisions",
            "per_class": .object(perClass),
            "majority_baseline": majorityBaseline.map {
                .object(["label": .string($0.label), "accuracy": number($0.accuracy)])
            } ?? .null,
        ]
        for (k, v) in extra.members { body[k] = v }
        return ["calibration": .object(body)]
    }

    /// A label value as a class name: integers as written, numbers without a fraction as integers.
    public static func className(_ value: JSONValue) -> String? {
        switch value {
        case let .number(n): return n.int64.map(String.init) ?? String(n.double)
        case let .string(s): return s
        case let .bool(b): return b ? "1" : "0"
        default: return nil
        }
    }
}
