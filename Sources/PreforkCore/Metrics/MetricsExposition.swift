/// Renders a `MetricsSnapshot` in the Prometheus text exposition format (version 0.0.4).
/// Pure: names, label escaping and the cumulative histogram are decided here and unit-tested.
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        out.reserveCapacity(4096)
        family(&out, "prefork_workers", "gauge", "Worker processes by state (job: job workers).")
        for state in ["booting", "idle", "busy", "draining", "job"] {
            sample(&out, "prefork_workers", "state=\"\(state)\"", Double(snapshot.workers[state] ?? 0))
        }
        family(&out, "prefork_requests_total", "counter", "Requests served by the workers.")
        sample(&out, "prefork_requests_total", "", Double(snapshot.requests))
        family(&out, "prefork_responses_total", "counter", "Responses by status class.")
        for (index, count) in snapshot.statusClasses.enumerated() {
            sample(&out, "prefork_responses_total", "code=\"\(index + 1)xx\"", Double(count))
        }
        histogram(&out, snapshot)
        family(&out, "prefork_requests_in_flight", "gauge", "Requests being handled now.")
        sample(&out, "prefork_requests_in_flight", "", Double(snapshot.inFlight))
        family(&out, "prefork_worker_exits_total", "counter", "Worker exits by cause.")
        for cause in ExitCause.allCases {
            let count = cause.rawValue < snapshot.exits.count ? snapshot.exits[cause.rawValue] : 0
            sample(&out, "prefork_worker_exits_total", "cause=\"\(cause.label)\"", Double(count))
        }
        if !snapshot.listeners.isEmpty {
            family(&out, "prefork_listen_queue", "gauge", "Connections waiting in a listener's accept queue.")
            for queue in snapshot.listeners {
                sample(&out, "prefork_listen_queue", "listener=\"\(escape(queue.address))\"", Double(queue.queued))
            }
            family(&out, "prefork_listen_backlog", "gauge", "The accept queue's limit (backlog).")
            for queue in snapshot.listeners {
                sample(&out, "prefork_listen_backlog", "listener=\"\(escape(queue.address))\"", Double(queue.backlog))
            }
        }
        family(&out, "prefork_uptime_seconds", "gauge", "Seconds since the server started (kept across USR2).")
        sample(&out, "prefork_uptime_seconds", "", snapshot.uptimeSeconds)
        family(&out, "prefork_start_time_seconds", "gauge", "When the server started, in seconds since the epoch.")
        sample(&out, "prefork_start_time_seconds", "", snapshot.startTimeSeconds)
        application(&out, snapshot.application)
        return out
    }

    private static func histogram(_ out: inout String, _ snapshot: MetricsSnapshot) {
        let name = "prefork_request_duration_seconds"
        family(&out, name, "histogram", "Time from a request's head to its response.")
        var cumulative: UInt64 = 0
        for (index, bound) in MetricsSnapshot.durationBounds.enumerated() {
            cumulative += index < snapshot.durationBuckets.count ? snapshot.durationBuckets[index] : 0
            sample(&out, name + "_bucket", "le=\"\(number(bound))\"", Double(cumulative))
        }
        let total = snapshot.durationBuckets.reduce(0, +)
        sample(&out, name + "_bucket", "le=\"+Inf\"", Double(total))
        sample(&out, name + "_sum", "", Double(snapshot.durationSumMicros) / 1_000_000)
        sample(&out, name + "_count", "", Double(total))
    }

    /// The application's metrics, grouped by name (one TYPE line each); a name used with two
    /// kinds keeps the first.
    private static func application(_ out: inout String, _ metrics: [AppMetric]) {
        var order: [String] = []
        var byName: [String: [AppMetric]] = [:]
        for metric in metrics {
            let name = metricName(metric.name)
            if byName[name] == nil { order.append(name) }
            if let first = byName[name]?.first, first.kind != metric.kind { continue }
            byName[name, default: []].append(metric)
        }
        for name in order {
            guard let group = byName[name], let kind = group.first?.kind else { continue }
            let help = "The application's \(name) (swift-metrics)."
            switch kind {
            case .counter, .floatCounter:
                family(&out, name, "counter", help)
                for metric in group { sample(&out, name, metric.labels, metric.value) }
            case .gauge:
                family(&out, name, "gauge", help)
                for metric in group { sample(&out, name, metric.labels, metric.value) }
            case .summary:
                family(&out, name, "summary", help)
                for metric in group {
                    sample(&out, name + "_sum", metric.labels, metric.value)
                    sample(&out, name + "_count", metric.labels, Double(metric.count))
                }
            }
        }
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n"
        out += "# TYPE \(name) \(type)\n"
    }

    private static func sample(_ out: inout String, _ name: String, _ labels: String, _ value: Double) {
        out += name
        if !labels.isEmpty { out += "{\(labels)}" }
        out += " \(number(value))\n"
    }

    /// Whole numbers without ".0", others as Swift prints them; NaN and infinities as Prometheus spells them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A valid metric name: characters outside [a-zA-Z0-9_:] become "_", and a leading digit gets "_".
    public static func metricName(_ name: String) -> String {
        var result = ""
        for scalar in name.unicodeScalars {
            let ok =
                scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || scalar == "_" || scalar == ":")
            result.unicodeScalars.append(ok ? scalar : "_")
        }
        if let first = result.unicodeScalars.first, ("0"..."9").contains(first) { result = "_" + result }
        return result.isEmpty ? "_" : result
    }

    /// A label set, `name="value",…`, names made valid and values escaped.
    public static func labels(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(labelName($0.0))=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    private static func labelName(_ name: String) -> String {
        metricName(name).replacingColons()
    }

    /// Escapes a label value: backslash, double quote and newline.
    public static func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}

extension String {
    fileprivate func replacingColons() -> String {
        String(unicodeScalars.map { $0 == ":" ? "_" : Character($0) })
    }
}
