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
            Family(name: "feedbackloop_latency_seconds", help: "Latency percentiles in the window (field: ttft, tpot or latency)."),
            Family(name: "feedbackloop_tokens", help: "Tokens summed over the window."),
            Family(name: "feedbackloop_drift_value", help: "Drift statistic against the reference (K-S: p-value)."),
            Family(name: "feedbackloop_drift_detected", help: "1 when the deciding drift statistic crossed its threshold."),
            Family(name: "feedbackloop_window_rejected_rate", help: "Share of the window's requests the server refused (4xx/5xx)."),
        ]
        func add(_ family: Int, _ labels: [(String, String)], _ value: JSONValue?) {
            guard let number = value?.double, number.isFinite else { return }
            families[family].samples.append(sample(families[family].name, labels, number))
        }
        for window in windows {
            let base = groupLabels(window["group"])
            if let end = window["window_end"]?.string, let t = try? Timestamp(rfc3339: end) {
                add(0, base, .double(t.secondsSinceEpoch))
            }
            add(1, base, window["count"])
            add(2, base, window["rps"])
            add(12, base, window["rejected_rate"])
            for (metric, stats) in window["metrics"]?.object ?? JSONObject() {
                let labels = base + [("metric", metric)]
                add(3, labels, stats["n"])
                add(4, labels, stats["mean"])
                add(5, labels, stats["std"])
                add(6, labels, stats["pass_rate"])
                add(7, labels, stats["error_rate"])
            }
            // Seconds, Prometheus's base unit, under a `percentile` label: `quantile` belongs to
            // summaries, which these window figures are not (promtool rejects both otherwise).
            for (field, stats) in window["latency"]?.object ?? JSONObject() {
                let name = field.hasSuffix("_ms") ? String(field.dropLast(3)) : field
                for key in ["p50", "p90", "p99"] {
                    add(8, base + [("field", name), ("percentile", key)], stats[key]?.double.map { .double($0 / 1000) })
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
            text += gaugeFamily(family.name, help: family.help, samples: family.samples)
        }
        return text
    }

    /// One gauge family: its HELP and TYPE lines, then its samples.
    static func gaugeFamily(_ name: String, help: String, samples: [String]) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) gauge\n" + samples.map { $0 + "\n" }.joined()
    }

    /// One sample line: `name{label="value",...} number`.
    static func sample(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        let labelText = labels.isEmpty ? "" : "{" + labels.map { "\(labelName($0.0))=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        return "\(name)\(labelText) \(value)"
    }

    /// A window group's fields as labels, in the group's order; a field named like one of
    /// `reserved` (the labels the exposition adds itself) is prefixed `group_`, since a series
    /// cannot carry one label twice.
    static func groupLabels(_ group: JSONValue?, reserved: Set<String> = ["metric", "field", "percentile", "feature", "test"]) -> [(String, String)] {
        var labels: [(String, String)] = []
        for (field, value) in group?.object ?? JSONObject() {
            let name = labelName(field)
            labels.append((reserved.contains(name) ? "group_" + name : name, value.string ?? (value.isNull ? "" : value.description)))
        }
        return labels
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
