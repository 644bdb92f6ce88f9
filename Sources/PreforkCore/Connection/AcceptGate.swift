/// Accept back-pressure for one worker: whether its listening sockets should be watched.
///
/// A worker stops accepting at `max_connections` and starts again once it is below 90 % of it
/// (so one closing connection does not flap the listeners on and off), or after it ran out of
/// file descriptors and a connection closed. A draining worker never accepts again.
public struct AcceptGate: Sendable, Equatable {
    /// What to do with the listening sockets.
    public enum Change: Sendable, Equatable {
        case unchanged
        /// Stop watching the listeners.
        case pause
        /// Watch the listeners again.
        case resume
    }

    public let maxConnections: Int
    /// Whether the listeners are watched.
    public private(set) var isOpen = true
    public private(set) var isDraining = false

    public init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// The count below which a paused worker accepts again: 90 % of `max_connections`, plus one.
    public var resumeBelow: Int { maxConnections * 9 / 10 + 1 }

    /// Whether another connection may be accepted now, with `open` connections; pauses when not.
    public mutating func mayAccept(open: Int) -> (allowed: Bool, change: Change) {
        if open < maxConnections && isOpen && !isDraining { return (true, .unchanged) }
        return (false, pause())
    }

    /// accept(2) failed for lack of file descriptors: stop until a connection closes.
    public mutating func outOfDescriptors() -> Change { pause() }

    /// A connection closed; `open` are left.
    public mutating func connectionClosed(open: Int) -> Change {
        guard !isOpen, !isDraining, open < resumeBelow else { return .unchanged }
        isOpen = true
        return .resume
    }

    /// The worker drains: it stops accepting for good.
    public mutating func beginDrain() -> Change {
        isDraining = true
        return pause()
    }

    private mutating func pause() -> Change {
        guard isOpen else { return .unchanged }
        isOpen = false
        return .pause
    }
}
