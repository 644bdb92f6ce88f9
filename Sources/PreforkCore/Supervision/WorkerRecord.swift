/// What the master knows about one worker: what it decided (generation, phase, the signal it
/// sent) and what the worker last wrote in its scoreboard slot. The one Swift shape of a worker;
/// the other is the C slot it reads from.
public struct WorkerRecord: Sendable, Equatable {
    /// What a worker does: serve HTTP, or run the application's jobs.
    public enum Kind: Sendable, Equatable {
        case http
        case job
    }

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
    public let kind: Kind
    public let spawnedAt: Int64
    public var phase: Phase
    /// The last signal the master sent it that decides how its exit is judged.
    public var sent: SupervisionPolicy.SentSignal = .none
    /// When the master sent SIGABRT for a timeout, if it did.
    public var abortSentAt: Int64?
    /// What the worker last wrote in its slot.
    public var reading: SlotReading

    public init(
        pid: Int32, slot: Int = 0, generation: UInt64, kind: Kind = .http, spawnedAt: Int64,
        phase: Phase = .booting, reading: SlotReading = SlotReading()
    ) {
        self.pid = pid
        self.slot = slot
        self.generation = generation
        self.kind = kind
        self.spawnedAt = spawnedAt
        self.phase = phase
        self.reading = reading
    }

    public var isDraining: Bool {
        if case .draining = phase { return true }
        return false
    }

    /// When the in-flight request (or job) started (monotonic ns), or nil when idle.
    public var busySince: Int64? { reading.request?.start }

    /// "worker 123" or "job worker 123", as log lines name it.
    public var title: String { kind == .job ? "job worker \(pid)" : "worker \(pid)" }
}

/// A job whose job worker died while running it, as the master saw it in the worker's slot;
/// handed to the next job worker it forks, which retries the job or marks it failed.
public struct OrphanedJob: Sendable, Equatable {
    /// The job's id, as the job worker wrote it in its slot.
    public var id: String
    /// The job's kind.
    public var kind: String
    /// Why it stopped, for the job's record: "job worker 123 was killed by SIGKILL, …".
    public var reason: String

    public init(id: String, kind: String, reason: String) {
        self.id = id
        self.kind = kind
        self.reason = reason
    }
}

/// A consistent copy of what a worker wrote in its scoreboard slot.
public struct SlotReading: Sendable, Equatable {
    /// The worker has left "booting": it serves (idle, busy or draining).
    public var serving: Bool
    /// The in-flight request, if any.
    public var request: InFlightRequest?
    /// The worker's last heartbeat (monotonic ns); 0 until it first beats.
    public var heartbeat: Int64
    /// The worker reached max_requests, or grew past max_worker_memory, and asks to be replaced.
    public var retireRequested: Bool { retireReason != nil }
    public var retireReason: RetireReason?

    public enum RetireReason: Sendable, Equatable {
        case maxRequests
        /// Its own memory (USS) when it asked, in KiB.
        case memory(kib: UInt64)
    }

    public init(
        serving: Bool = false, request: InFlightRequest? = nil, heartbeat: Int64 = 0, retireRequested: Bool = false,
        retireReason: RetireReason? = nil
    ) {
        self.serving = serving
        self.request = request
        self.heartbeat = heartbeat
        self.retireReason = retireReason ?? (retireRequested ? .maxRequests : nil)
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
