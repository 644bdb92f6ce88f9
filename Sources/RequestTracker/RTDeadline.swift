/// When a group of RT calls must be over: one request to the application gives one deadline to
/// all the RT calls it makes, so together they never outlast it. Each HTTP request gets the
/// time left (name resolution, connect, TLS and transfer all count); a call made after the
/// deadline fails at once with `.timeout`.
public struct RTDeadline: Sendable {
    /// The moment, on the monotonic clock.
    public var instant: ContinuousClock.Instant
    /// The seconds the deadline was given, for messages ("timed out after 10s").
    public var seconds: Double

    /// `seconds` from now.
    public init(seconds: Double) {
        self.instant = .now + .milliseconds(Int64((max(seconds, 0) * 1000).rounded()))
        self.seconds = seconds
    }

    /// At `instant`; messages name the seconds that were left when it was made.
    public init(at instant: ContinuousClock.Instant) {
        self.instant = instant
        let left = ContinuousClock.now.duration(to: instant).components
        seconds = max(0, Double(left.seconds) + Double(left.attoseconds) / 1e18)
    }

    /// Seconds left (0 once passed).
    public var remaining: Double {
        let left = ContinuousClock.now.duration(to: instant).components
        return max(0, Double(left.seconds) + Double(left.attoseconds) / 1e18)
    }
}
