import CPreforkShims
import CoreMetrics
import PreforkCore

/// The swift-metrics backend Prefork bootstraps when `metrics_bind` is set: every counter,
/// gauge, recorder and timer lives in the server's shared memory, so the one scrape any worker
/// answers holds what every process counted. Names become Prometheus names (invalid characters
/// as "_"); dimensions become labels. Gauges and meters are one value shared by all processes
/// (the last set wins); recorders and timers are summaries (count and sum; timers in seconds).
/// The table holds 256 metrics; past it, new ones count nothing (the name is over the limit too).
struct SharedMetricsFactory: MetricsFactory {
    let shared: SharedMemory

    struct SharedMemory: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<prefork_shared>
    }

    init(_ shared: UnsafeMutablePointer<prefork_shared>) {
        self.shared = SharedMemory(pointer: shared)
    }

    private func entry(_ kind: AppMetricKind, _ label: String, _ dimensions: [(String, String)]) -> SharedMetric {
        let name = MetricsExposition.metricName(label)
        let labels = MetricsExposition.labels(dimensions)
        let pointer = prefork_app_metric_get(shared.pointer, kind.rawValue, name, labels)
        return SharedMetric(pointer: pointer.map { SharedMetric.Pointer(value: $0) })
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        entry(.counter, label, dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        entry(.floatCounter, label, dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        entry(.gauge, label, dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        entry(aggregate ? .summary : .gauge, label, dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        entry(.summary, label, dimensions)
    }

    func destroyCounter(_ handler: CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    func destroyMeter(_ handler: MeterHandler) {}
    func destroyRecorder(_ handler: RecorderHandler) {}
    func destroyTimer(_ handler: TimerHandler) {}
}

/// One shared entry behind every kind of handler; the factory picks what the entry means.
final class SharedMetric: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler,
    TimerHandler, @unchecked Sendable
{
    struct Pointer: @unchecked Sendable {
        let value: UnsafeMutablePointer<prefork_app_metric>
    }

    let pointer: Pointer?

    init(pointer: Pointer?) {
        self.pointer = pointer
    }

    private var kind: AppMetricKind? { pointer.flatMap { AppMetricKind(rawValue: $0.value.pointee.kind) } }

    func increment(by amount: Int64) {
        guard let pointer else { return }
        if kind == .counter { prefork_app_metric_add_int(pointer.value, amount) } else { increment(by: Double(amount)) }
    }

    func increment(by amount: Double) {
        guard let pointer else { return }
        if kind == .counter {
            prefork_app_metric_add_int(pointer.value, Int64(amount))
        } else {
            prefork_app_metric_add_double(pointer.value, amount)
        }
    }

    func decrement(by amount: Double) { increment(by: -amount) }

    func reset() {
        guard let pointer else { return }
        prefork_app_metric_set_int(pointer.value, 0)
    }

    func set(_ value: Int64) { set(Double(value)) }

    func set(_ value: Double) {
        guard let pointer else { return }
        prefork_app_metric_set_double(pointer.value, value)
    }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        guard let pointer else { return }
        if kind == .summary { prefork_app_metric_observe(pointer.value, value) } else { set(value) }
    }

    func recordNanoseconds(_ duration: Int64) { record(Double(duration) / 1e9) }
}
