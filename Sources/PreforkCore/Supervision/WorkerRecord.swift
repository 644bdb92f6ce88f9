/// What the master knows about one worker: what it decided (generation, phase, the signal it
/// sent) and what the worker last wrote in its scoreboard slot. The one Swift shape of a worker;
/// the other is the C slot it reads from.
public struct WorkerRecord: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// Forked; has not said it is ready yet.
        case booting
        /// Serving.
        case ready
        /// Told to stop (SIGTERM): finishing its requests.
        case draining(since: Int64)
    }

    public let pid: Int32
    /// Its scoreboard slot.
    public let slot: Int
    public let generation: UInt64
    public let spawnedAt: Int64
    public var phase: Phase
    /// The last signal the master sent it that decides how its exit is judged.
    public var sent: SupervisionPolicy.SentSignal = .none
    /// When the master sent SIGABRT for a timeout, if it did.
    public var abortSentAt: Int64?
    /// What the worker last wrote in its slot.
    public var reading: SlotReading

    public init(
        pid: Int32, slot: Int = 0, generation: UInt64, spawnedAt: Int64, phase: Phase = .booting,
        reading: SlotReading = SlotReading()
    ) {
        self.pid = pid
        self.slot = slot
        self.generation = generation
        self.spawnedAt = spawnedAt
        self.phase = phase
        self.reading = reading
    }

    public var isDraining: Bool {
        if case .draining = phase { return true }
        return false
    }

    /// When the in-flight request started (monotonic ns), or nil when not in a request.
    public var busySince: Int64? { reading.request?.start }
}

/// A consistent copy of what a worker wrote in its scoreboard slot.
public struct SlotReading: Sendable, Equatable {
    /// The worker has left "booting": it serves (idle, busy or draining).
    public var serving: Bool
    /// The in-flight request, if any.
    public var request: InFlightRequest?
    /// The worker's last heartbeat (monotonic ns); 0 until it first beats.
    public var heartbeat: Int64
    /// The worker reached max_requests and asks to be replaced.
    public var retireRequested: Bool

    public init(
        serving: Bool = false, request: InFlightRequest? = nil, heartbeat: Int64 = 0, retireRequested: Bool = false
    ) {
        self.serving = serving
        self.request = request
        self.heartbeat = heartbeat
        self.retireRequested = retireRequested
    }
}

/// The request a worker is serving, as its slot shows it (for the timeout's log line).
public struct InFlightRequest: Sendable, Equatable {
    /// Monotonic ns.
    public var start: Int64
    public var method: String
    public var path: String
    public var requestID: String

    public init(start: Int64, method: String = "-", path: String = "-", requestID: String = "-") {
        self.start = start
        self.method = method
        self.path = path
        self.requestID = requestID
    }
}
