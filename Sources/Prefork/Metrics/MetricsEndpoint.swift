import CPreforkShims
import HTTPTypes
import PreforkCore

/// What a worker answers on the `metrics_bind` listener: the true totals of every process,
/// read from the shared memory (the slots of live workers plus what the master folded in from
/// the dead ones), in Prometheus's text format.
struct MetricsEndpoint {
    let shared: UnsafeMutablePointer<prefork_shared>
    /// The shared TCP listeners whose accept queues are reported, with their addresses.
    let listeners: [(address: String, fd: Int32)]

    func respond(to request: Request) -> Response {
        guard request.path == "/metrics" || request.path == "/" else {
            return Response.error(.notFound, message: "Metrics are at /metrics.")
        }
        guard request.method == .get || request.method == .head else {
            return Response.error(.methodNotAllowed)
        }
        let text = MetricsExposition.render(snapshot(realtime: Clock.realtime()))
        return Response.bytes(Array(text.utf8), contentType: MetricsExposition.contentType)
    }

    func snapshot(realtime: Int64) -> MetricsSnapshot {
        var raw = prefork_metrics_snapshot()
        prefork_shared_snapshot(shared, &raw)
        var snapshot = MetricsSnapshot()
        let states = ["booting", "idle", "busy", "draining", "job"]
        withUnsafeBytes(of: raw.workers) { bytes in
            for (index, count) in bytes.bindMemory(to: UInt32.self).enumerated() {
                snapshot.workers[states[index]] = Int(count)
            }
        }
        snapshot.requests = raw.sums.requests
        snapshot.statusClasses = values(raw.sums.status_classes)
        snapshot.durationBuckets = values(raw.sums.duration_buckets)
        snapshot.durationSumMicros = raw.sums.duration_sum_us
        snapshot.inFlight = Int(raw.in_flight)
        snapshot.exits = Array(values(raw.sums.exits).prefix(ExitCause.allCases.count))
        let started = raw.sums.started_realtime_ns
        snapshot.startTimeSeconds = Double(started) / 1e9
        snapshot.uptimeSeconds = Double(max(0, realtime - started)) / 1e9
        for listener in listeners {
            var queued: UInt32 = 0
            var backlog: UInt32 = 0
            if prefork_listen_queue(listener.fd, &queued, &backlog) == 0 {
                snapshot.listeners.append(.init(address: listener.address, queued: queued, backlog: backlog))
            }
        }
        snapshot.application = applicationMetrics()
        return snapshot
    }

    /// The application's metrics in the shared table, sorted by name and labels.
    private func applicationMetrics() -> [AppMetric] {
        var metrics: [AppMetric] = []
        for index in 0..<Int(PREFORK_APP_METRICS_MAX) {
            var kindValue: UInt32 = 0
            var bits: UInt64 = 0
            var count: UInt64 = 0
            guard prefork_app_metric_read(shared, Int32(index), &kindValue, &bits, &count) == 1,
                let kind = AppMetricKind(rawValue: kindValue), let entry = prefork_shared_app(shared, Int32(index))
            else { continue }
            let value = kind == .counter ? Double(Int64(bitPattern: bits)) : Double(bitPattern: bits)
            metrics.append(
                AppMetric(
                    name: cString(&entry.pointee.name), labels: cString(&entry.pointee.labels), kind: kind,
                    value: value, count: count))
        }
        return metrics.sorted { ($0.name, $0.labels) < ($1.name, $1.labels) }
    }

    private func values<T>(_ tuple: T) -> [UInt64] {
        withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: UInt64.self)) }
    }
}
