/// The settings a connection obeys, resolved from the configuration.
public struct ConnectionConfiguration: Sendable, Equatable {
    public var limits: HTTPLimits
    /// Idle time between requests before the connection is closed; 0 disables keep-alive.
    public var keepaliveNanos: Int64
    /// Longest a head may take from its first byte, and longest a body may stall.
    public var headerTimeoutNanos: Int64

    /// How long input is discarded after a final response before closing anyway.
    public static let lingerNanos: Int64 = 2_000_000_000
    /// While draining, idle connections are closed after this (or `keepalive`, if shorter).
    public static let drainIdleNanos: Int64 = 1_000_000_000

    public init(limits: HTTPLimits, keepaliveNanos: Int64, headerTimeoutNanos: Int64) {
        self.limits = limits
        self.keepaliveNanos = keepaliveNanos
        self.headerTimeoutNanos = headerTimeoutNanos
    }

    /// The largest a request head may be, from the limits (request line and fields): the read
    /// buffer grows up to this, and a head that fills it is answered with 431.
    public var headBufferLimit: Int {
        let line = limits.requestLine == 0 ? 8192 : limits.requestLine + 2
        let fields = limits.fieldCount == 0 ? 32_768 : limits.fieldCount
        let size = limits.fieldSize == 0 ? 8192 : limits.fieldSize + 2
        return min(line + fields * size + 2, 1 << 20)
    }
}
