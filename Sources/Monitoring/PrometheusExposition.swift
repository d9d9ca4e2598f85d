import Records

/// Renders window records in the Prometheus text exposition format (version 0.0.4), for the node
/// exporter's textfile collector or a Pushgateway. Samples carry no timestamps (neither consumer
/// accepts them); the window's end is exported as its own gauge instead. Group fields become labels
/// (names sanitised to `[a-zA-Z_][a-zA-Z0-9_]*`, values escaped); `null` statistics are left out,
/// since a missing sample is how Prometheus says "no data".
///
/// One exposition holds each family once (one HELP and TYPE) and each series once: of several
/// windows of one group only the last one given is exported, the latest closed window, as a
/// textfile collector expects (it drops a file that repeats a series).
public enum PrometheusExposition {
    private struct Family {
        let name: String
        let help: String
        var samples: [String] = []
    }

    public static func render(_ windows: [JSONObject]) -> String {
        // The last window of each group, in the order the groups first appear.
        var last: [String: JSONObject] = [:]
        var order: [String] = []
        for window in windows {
            let key = window["group"].map { JSONSerializer.string($0) } ?? "{}"
            if last[key] == nil { order.append(key) }
            last[key] = window
        }
        let windows = order.compactMap { last[$0] }
        var families: [Family] = [
            Family(name: "feedbackloop_window_end_timestamp_seconds", help: "End of the window, Unix seconds."),
            Family(name: "feedbackloop_window_records", help: "Traffic records in the window."),
            Family(name: "feedbackloop_window_requests_per_second", help: "Traffic records per second in the window."),
            Family(name: "feedbackloop_judge_scored", help: "Judged records with a score, per judge metric."),
            Family(name: "feedbackloop_judge_score_mean", help: "Mean judge score."),
            Family(name: "feedbackloop_judge_score_std", help: "Sample standard deviation of judge scores."),
            Family(name: "feedbackloop_judge_pass_rate", help: "Share of scored records that passed."),
            Family(name: "feedbackloop_judge_error_rate", help: "Share of judge attempts that ended in an error."),
            Family(name: "feedbackloop_latency_milliseconds", help: "Latency percentiles in the window."),
            Family(name: "feedbackloop_tokens", help: "Tokens summed over the window."),
            Family(name: "feedbackloop_drift_value", help: "Drift statistic against the reference (K-S: p-value)."),
            Family(name: "feedbackloop_drift_detected", help: "1 when the deciding drift statistic crossed its threshold."),
        ]
        func add(_ family: Int, _ labels: [(String, String)], _ value: JSONValue?) {
            guard let number = value?.double, number.isFinite else { return }
            let labelText = labels.isEmpty ? "" : "{" + labels.map { "\(labelName($0.0))=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            families[family].samples.append("\(families[family].name)\(labelText) \(number)")
        }
        for window in windows {
            var base: [(String, String)] = []
            for (field, value) in window["group"]?.object ?? JSONObject() {
                base.append((field, value.string ?? (value.isNull ? "" : value.description)))
            }
            if let end = window["window_end"]?.string, let t = try? Timestamp(rfc3339: end) {
                add(0, base, .double(t.secondsSinceEpoch))
            }
            add(1, base, window["count"])
            add(2, base, window["rps"])
            for (metric, stats) in window["metrics"]?.object ?? JSONObject() {
                let labels = base + [("metric", metric)]
                add(3, labels, stats["n"])
                add(4, labels, stats["mean"])
                add(5, labels, stats["std"])
                add(6, labels, stats["pass_rate"])
                add(7, labels, stats["error_rate"])
            }
            for (field, stats) in window["latency"]?.object ?? JSONObject() {
                for (key, quantile) in [("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99")] {
                    add(8, base + [("field", field), ("quantile", quantile)], stats[key])
                }
            }
            for (field, stats) in window["tokens"]?.object ?? JSONObject() {
                add(9, base + [("field", field)], stats["sum"])
            }
            for (feature, result) in window["drift"]?.object ?? JSONObject() {
                for test in DriftTest.allCases {
                    add(10, base + [("feature", feature), ("test", test.rawValue)], result[test.rawValue]?["value"])
                }
                if let detected = result["drift_detected"]?.bool {
                    add(11, base + [("feature", feature)], .int(detected ? 1 : 0))
                }
            }
        }
        var text = ""
        for family in families where !family.samples.isEmpty {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            for sample in family.samples { text += sample + "\n" }
        }
        return text
    }

    static func labelName(_ field: String) -> String {
        var out = ""
        for (i, scalar) in field.unicodeScalars.enumerated() {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_" || (i > 0 && scalar >= "0" && scalar <= "9")
            out.unicodeScalars.append(ok ? scalar : "_")
        }
        return out.isEmpty ? "_" : out
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
