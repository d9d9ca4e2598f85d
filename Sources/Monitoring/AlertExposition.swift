import Records

/// drift-alert's alert states in the Prometheus text exposition format (version 0.0.4), for the
/// node exporter's textfile collector beside score-window's file: one gauge
/// `feedbackloop_alert_state{rule, severity, <group fields>}` per rule and window group, 0 inactive,
/// 1 suspected, 2 detected, and `feedbackloop_alert_state_since_timestamp_seconds`, when that state
/// began (window end time). A configured rule that has seen no window yet is exported as inactive
/// without group labels, so that a dashboard shows it from the start.
public enum AlertExposition {
    public static func render(rules: [AlertRule], state: AlertStateFile) -> String {
        let severities = Dictionary(rules.map { ($0.name, $0.severity) }, uniquingKeysWith: { first, _ in first })
        var names = rules.map(\.name)
        names += state.rules.keys.sorted().filter { severities[$0] == nil }
        var states: [String] = []
        var since: [String] = []
        for name in names {
            let groups = state.rules[name] ?? [:]
            if groups.isEmpty {
                states.append(PrometheusExposition.sample("feedbackloop_alert_state",
                                                          [("rule", name), ("severity", severities[name] ?? "")], 0))
                continue
            }
            for key in groups.keys.sorted() {
                guard let group = groups[key] else { continue }
                let labels = [("rule", name), ("severity", severities[name] ?? group.severity ?? "")]
                    + PrometheusExposition.groupLabels(group.group, reserved: ["rule", "severity"])
                states.append(PrometheusExposition.sample("feedbackloop_alert_state", labels, level(group.status)))
                if let start = group.since {
                    since.append(PrometheusExposition.sample("feedbackloop_alert_state_since_timestamp_seconds", labels, start))
                }
            }
        }
        var text = PrometheusExposition.gaugeFamily(
            "feedbackloop_alert_state", help: "Alert state per rule and window group: 0 inactive, 1 suspected, 2 detected.",
            samples: states)
        if !since.isEmpty {
            text += PrometheusExposition.gaugeFamily(
                "feedbackloop_alert_state_since_timestamp_seconds",
                help: "When the alert's current state began (window end), Unix seconds.", samples: since)
        }
        return text
    }

    /// The gauge's value for a status.
    public static func level(_ status: AlertGroupState.Status) -> Double {
        switch status {
        case .inactive: return 0
        case .suspected: return 1
        case .detected: return 2
        }
    }
}
