import CPreforkShims

/// Monotonic and wall clocks in nanoseconds. Timeouts always use the monotonic clock.
enum Clock {
    @inline(__always) static func monotonic() -> Int64 { prefork_monotonic_ns() }
    @inline(__always) static func coarse() -> Int64 { prefork_monotonic_coarse_ns() }
    @inline(__always) static func realtime() -> Int64 { prefork_realtime_ns() }
}

extension Double {
    /// Seconds as nanoseconds.
    var nanoseconds: Int64 { Int64(self * 1_000_000_000) }
}
