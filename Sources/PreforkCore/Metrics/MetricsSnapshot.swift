/// What the server's shared memory says at one moment, in plain values: the input of
/// `MetricsExposition`. Prefork fills it from the scoreboard; tests build it by hand.
public struct MetricsSnapshot: Sendable, Equatable {
    /// Upper bounds of the request duration buckets, in seconds (the last bucket, above them, is +Inf).
    public static let durationBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Workers by state: booting, idle, busy, draining (HTTP workers), and job workers.
    public var workers: [String: Int] = [:]
    public var requests: UInt64 = 0
    /// Responses by status class, 1xx to 5xx.
    public var statusClasses: [UInt64] = Array(repeating: 0, count: 5)
    /// Requests per duration bucket (not cumulative), one more than `durationBounds`.
    public var durationBuckets: [UInt64] = Array(repeating: 0, count: durationBounds.count + 1)
    public var durationSumMicros: UInt64 = 0
    public var inFlight: Int = 0
    /// Worker exits by cause, indexed by `ExitCause.rawValue`.
    public var exits: [UInt64] = Array(repeating: 0, count: ExitCause.allCases.count)
    /// Each TCP listener's accept queue: its address, the connections queued and the backlog.
    public var listeners: [ListenQueue] = []
    public var uptimeSeconds: Double = 0
    public var startTimeSeconds: Double = 0
    /// The application's own metrics (swift-metrics), in the order they were first used.
    public var application: [AppMetric] = []

    public init() {}

    public struct ListenQueue: Sendable, Equatable {
        public var address: String
        public var queued: UInt32
        public var backlog: UInt32

        public init(address: String, queued: UInt32, backlog: UInt32) {
            self.address = address
            self.queued = queued
            self.backlog = backlog
        }
    }
}

/// What an application metric is, as swift-metrics makes it.
public enum AppMetricKind: UInt32, Sendable {
    /// Counter: a whole number that only goes up (reset aside).
    case counter = 1
    /// FloatingPointCounter.
    case floatCounter = 2
    /// Gauge, Meter: the last value set, shared by every process.
    case gauge = 3
    /// Recorder (aggregating) and Timer: observations counted and summed (a Prometheus summary
    /// without quantiles, which cannot be merged across processes).
    case summary = 4
}

/// One application metric's current value.
public struct AppMetric: Sendable, Equatable {
    public var name: String
    /// Rendered label pairs, `a="x",b="y"`, or empty.
    public var labels: String
    public var kind: AppMetricKind
    /// The counter's or gauge's value, or the summary's sum.
    public var value: Double
    /// The summary's observations.
    public var count: UInt64

    public init(name: String, labels: String, kind: AppMetricKind, value: Double, count: UInt64 = 0) {
        self.name = name
        self.labels = labels
        self.kind = kind
        self.value = value
        self.count = count
    }
}
