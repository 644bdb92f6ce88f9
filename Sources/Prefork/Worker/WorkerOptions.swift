import PreforkCore

/// What a worker needs to know, resolved by the master from the configuration before fork.
struct WorkerOptions {
    var limits: HTTPLimits
    var keepaliveNanos: Int64
    var headerTimeoutNanos: Int64
    var gracefulTimeoutNanos: Int64
    var maxConnections: Int
    /// Requests after which the worker asks to be replaced (0: never); jitter already applied.
    var maxRequests: Int
    /// KiB of its own memory (USS) past which the worker asks to be replaced (0: never).
    var maxMemoryKiB: Int = 0
    var proxyTrust: ProxyTrust
    var serverName: String
    var masterPID: Int32
    /// How long an idle worker sleeps at most, so its heartbeat stays well inside `timeout`.
    var heartbeatMillis: Int32
}
