#if canImport(Glibc)
    import Glibc
#endif

/// The timeouts the policy enforces, in nanoseconds (0 disables the request timeout).
public struct SupervisionTimeouts: Sendable, Equatable {
    public var request: Int64
    public var boot: Int64
    public var graceful: Int64
    /// How long after SIGABRT a worker still alive gets SIGKILL.
    public var abortGrace: Int64
    /// The longest a job worker may spend on one job (0: no limit).
    public var job: Int64

    public init(request: Int64, boot: Int64, graceful: Int64, abortGrace: Int64 = 2_000_000_000, job: Int64 = 0) {
        self.request = request
        self.boot = boot
        self.graceful = graceful
        self.abortGrace = abortGrace
        self.job = job
    }
}

/// The master's decisions, as pure functions: which workers to start or stop, which are stale,
/// and what a worker's exit means. `ArbiterState` applies them to its records and turns them into actions.
public enum SupervisionPolicy {
    /// Changes that keep `target` workers of the current generation serving.
    public struct Plan: Sendable, Equatable {
        /// Workers to fork now.
        public var spawn: Int
        /// Workers to tell to drain (SIGTERM), with the reason for the log.
        public var drain: [(pid: Int32, reason: DrainReason)]

        public static func == (a: Plan, b: Plan) -> Bool {
            a.spawn == b.spawn && a.drain.map(\.pid) == b.drain.map(\.pid)
                && a.drain.map(\.reason) == b.drain.map(\.reason)
        }
    }

    public enum DrainReason: Sendable, Equatable {
        /// A newer generation (after HUP) is serving.
        case replacedByNewGeneration
        /// Reached max_requests; its replacement is serving.
        case retired
        /// Fewer workers wanted (TTOU).
        case surplus
    }

    /// Plans worker changes. New workers are always started before old ones are told to drain,
    /// so there is no gap in service: an old-generation or retiring worker is drained only once
    /// `target` current, non-retiring workers are ready.
    public static func plan(workers: [WorkerRecord], target: Int, generation: UInt64) -> Plan {
        let live = workers.filter { !$0.isDraining }
        let current = live.filter { $0.generation == generation }
        let staying = current.filter { !$0.reading.retireRequested }
        var plan = Plan(spawn: max(0, target - staying.count), drain: [])
        let readyStaying = staying.filter { $0.phase == .ready }
        guard readyStaying.count >= target else { return plan }
        for worker in live where worker.generation != generation {
            plan.drain.append((worker.pid, .replacedByNewGeneration))
        }
        for worker in current where worker.reading.retireRequested {
            plan.drain.append((worker.pid, .retired))
        }
        // Surplus (TTOU): stop the oldest ready workers first.
        let surplus = staying.count - target
        if surplus > 0 {
            for worker in readyStaying.sorted(by: { $0.spawnedAt < $1.spawnedAt }).prefix(surplus) {
                plan.drain.append((worker.pid, .surplus))
            }
        }
        return plan
    }

    /// What to do about a worker that may be stuck.
    public enum StaleAction: Sendable, Equatable {
        case none
        /// Busy on one request longer than the timeout: SIGABRT (the log names the request).
        case abortForRequestTimeout(seconds: Double)
        /// No heartbeat for longer than the timeout outside a request: SIGABRT.
        case abortForMissedHeartbeat(seconds: Double)
        /// Still alive after SIGABRT: SIGKILL.
        case killAfterAbort
        /// Did not become ready within boot_timeout: SIGKILL.
        case killBootTimeout(seconds: Double)
        /// Draining longer than graceful_timeout: SIGKILL.
        case killGracefulTimeout(seconds: Double)
    }

    public static func staleAction(for worker: WorkerRecord, now: Int64, timeouts: SupervisionTimeouts) -> StaleAction {
        if let abortedAt = worker.abortSentAt {
            return now - abortedAt >= timeouts.abortGrace ? .killAfterAbort : .none
        }
        switch worker.phase {
        case .booting:
            let age = now - worker.spawnedAt
            if timeouts.boot > 0 && age > timeouts.boot { return .killBootTimeout(seconds: seconds(age)) }
            return .none
        case .draining where worker.kind == .job && worker.busySince != nil:
            // A job worker told to stop (HUP) finishes its job; only job_timeout ends it.
            return jobTimeout(worker, now: now, timeouts: timeouts)
        case .ready where worker.kind == .job && worker.busySince != nil:
            return jobTimeout(worker, now: now, timeouts: timeouts)
        case .draining(let since):
            let age = now - since
            // The worker exits by itself at graceful_timeout; this is the backstop.
            if age > timeouts.graceful + timeouts.abortGrace { return .killGracefulTimeout(seconds: seconds(age)) }
            if let busySince = worker.busySince, timeouts.request > 0, now - busySince > timeouts.request {
                return .abortForRequestTimeout(seconds: seconds(now - busySince))
            }
            return .none
        case .ready:
            guard timeouts.request > 0 else { return .none }
            if let busySince = worker.busySince, now - busySince > timeouts.request {
                return .abortForRequestTimeout(seconds: seconds(now - busySince))
            }
            if worker.busySince == nil && worker.reading.heartbeat > 0
                && now - worker.reading.heartbeat > timeouts.request
            {
                return .abortForMissedHeartbeat(seconds: seconds(now - worker.reading.heartbeat))
            }
            return .none
        }
    }

    static func jobTimeout(_ worker: WorkerRecord, now: Int64, timeouts: SupervisionTimeouts) -> StaleAction {
        guard let busySince = worker.busySince, timeouts.job > 0, now - busySince > timeouts.job else { return .none }
        return .abortForRequestTimeout(seconds: seconds(now - busySince))
    }

    /// How a worker ended, from its wait status.
    public enum Termination: Sendable, Equatable {
        case exited(code: Int32)
        case signaled(signal: Int32, coreDumped: Bool)
    }

    /// The signal the master itself sent the worker, if any.
    public enum SentSignal: Sendable, Equatable {
        case none, term, abort, kill, quit
    }

    /// The verdict on a worker's death: how loud to log it, what to say, and whether to halt.
    /// `ArbiterState` adds "; replacing it" when it will start a replacement.
    public struct ExitVerdict: Sendable, Equatable {
        public var level: LogLine.Level
        public var message: String
        /// The master stops (instead of respawning in a loop) with this exit code.
        public var haltCode: Int32?
    }

    /// Judges a worker's exit. `bootFailureCode` is the worker's "could not boot" exit code.
    public static func judgeExit(
        pid: Int32, termination: Termination, sent: SentSignal, wasReady: Bool, bootFailureCode: Int32
    ) -> ExitVerdict {
        switch termination {
        case .exited(let code) where code == 0:
            let expected = sent != .none
            return ExitVerdict(
                level: expected ? .info : .warning,
                message: expected ? "worker \(pid) exited" : "worker \(pid) exited unexpectedly with code 0",
                haltCode: nil)
        case .exited(let code) where code == bootFailureCode && !wasReady:
            return ExitVerdict(
                level: .critical,
                message: "worker \(pid) failed to boot; stopping (fix the error above, then start again)",
                haltCode: bootFailureCode)
        case .exited(let code):
            return ExitVerdict(level: .error, message: "worker \(pid) exited with code \(code)", haltCode: nil)
        case .signaled(let signal, let core):
            let name = SignalTable.name(of: signal)
            let dumped = core ? " (core dumped)" : ""
            switch (signal, sent) {
            case (SIGTERM, .term), (SIGQUIT, .quit), (SIGINT, .quit):
                return ExitVerdict(level: .info, message: "worker \(pid) stopped by \(name)", haltCode: nil)
            case (SIGABRT, .abort), (SIGKILL, .kill):
                return ExitVerdict(
                    level: .warning, message: "worker \(pid) was killed by \(name) after a timeout",
                    haltCode: nil)
            case (SIGKILL, _):
                return ExitVerdict(
                    level: .error,
                    message: "worker \(pid) was killed by SIGKILL, which the master did not send "
                        + "(perhaps out of memory? see dmesg or journalctl -k)",
                    haltCode: nil)
            case (SIGILL, _), (SIGTRAP, _):
                return ExitVerdict(
                    level: .error,
                    message: "worker \(pid) crashed with \(name)\(dumped): a Swift runtime trap "
                        + "(fatalError, failed precondition, force-unwrap of nil or overflow)",
                    haltCode: nil)
            default:
                return ExitVerdict(
                    level: .error, message: "worker \(pid) was killed by \(name)\(dumped)", haltCode: nil)
            }
        }
    }

    static func seconds(_ nanos: Int64) -> Double { Double(nanos) / 1_000_000_000 }
}
