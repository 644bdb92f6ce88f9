#if canImport(Glibc)
    import Glibc
#endif

/// The master's bookkeeping as a value: the workers, the generations, a reload in progress (and
/// what to fall back to), abandoned generations, a stop and its deadline, the worker count
/// wanted. It is fed events (a signal, a worker spawned or exited, a tick of the monotonic
/// clock with what the workers wrote in their slots) and returns the actions the arbiter
/// performs. It makes no syscalls, so every decision is tested without forking.
///
/// Every signal to a worker goes through `send(_:to:reason:now:)`, which records it in the
/// worker's record (how its exit is judged) and returns the one `.send` action that delivers it.
public struct ArbiterState<Configuration: SupervisedConfiguration> {
    public enum Mode: Sendable, Equatable {
        case running
        /// Stopping: graceful (workers drain) or fast; workers still alive at `deadline` get SIGKILL.
        case stopping(graceful: Bool, deadline: Int64)
    }

    /// A reload whose new generation does not serve yet, with what to fall back to if it cannot
    /// boot: the previous configuration and generation, which never stopped serving.
    public struct PendingReload: Sendable {
        public var previous: Configuration
        public var previousGeneration: UInt64
    }

    public enum Event: Sendable {
        /// A signal the master's handler queued.
        case signal(Int32)
        /// The arbiter resolved and bound the configuration of a reload.
        case reloadResolved(Configuration)
        /// The reload's configuration is invalid or its addresses cannot be bound.
        case reloadRefused(reason: String)
        /// A worker of the current generation was forked into this scoreboard slot (a job
        /// worker was handed `orphanedJobs`).
        case spawned(pid: Int32, slot: Int, kind: WorkerRecord.Kind = .http)
        /// A worker was reaped, with what its slot held last (a job it died running shows there
        /// even when it died between two ticks).
        case exited(pid: Int32, termination: SupervisionPolicy.Termination, lastReading: SlotReading? = nil)
        /// A turn of the loop, with what each worker last wrote in its slot.
        case tick(readings: [Int32: SlotReading])
        /// The new binary of a USR2 passed its check (nil) or did not (why), or could not be executed.
        case upgradeChecked(failure: String?)
    }

    /// An in-place upgrade (USR2) under way in this master.
    public enum UpgradeStage: Sendable, Equatable {
        /// The new binary is being checked.
        case checking
        /// This master is the upgraded binary; its first generation does not serve yet.
        case adopted
        /// Its workers could not boot: the previous binary is re-executed once they are gone.
        case rollingBack
    }

    public internal(set) var configuration: Configuration
    public internal(set) var workers: [Int32: WorkerRecord] = [:]
    /// The generation new workers belong to.
    public internal(set) var generation: UInt64 = 1
    /// The newest generation ever started; generation numbers are never reused.
    public internal(set) var newestGeneration: UInt64 = 1
    /// Generations of reloads whose workers could not boot.
    public internal(set) var abandonedGenerations: Set<UInt64> = []
    public internal(set) var targetWorkers: Int
    public internal(set) var mode: Mode = .running
    public internal(set) var pendingReload: PendingReload?
    /// Set when a worker could not boot outside a reload: the next tick halts with it.
    public internal(set) var haltCode: Int32?
    /// The worker's "could not boot" exit code.
    public let bootFailureCode: Int32
    /// Jobs whose job worker died running them, for the next job worker to retry or fail.
    public internal(set) var orphanedJobs: [OrphanedJob] = []
    public internal(set) var upgrade: UpgradeStage?

    var actions: [ArbiterAction] = []

    public init(configuration: Configuration, bootFailureCode: Int32) {
        self.configuration = configuration
        self.targetWorkers = configuration.workers
        self.bootFailureCode = bootFailureCode
    }

    /// Applies one event at monotonic time `now` (ns) and returns what the arbiter must do.
    public mutating func handle(_ event: Event, now: Int64) -> [ArbiterAction] {
        switch event {
        case .signal(let number): handleSignal(number, now: now)
        case .reloadResolved(let fresh): startGeneration(fresh)
        case .reloadRefused(let reason):
            log(.error, "reload refused, still serving with the previous configuration: \(reason)")
            actions.append(.notify(.ready(status: "reload refused: \(reason)")))
        case .spawned(let pid, let slot, let kind):
            workers[pid] = WorkerRecord(pid: pid, slot: slot, generation: generation, kind: kind, spawnedAt: now)
            if kind == .job {
                orphanedJobs = []
                log(.info, "Booting job worker with pid: \(pid)")
            } else {
                log(.info, "Booting worker with pid: \(pid)")
            }
        case .exited(let pid, let termination, let lastReading):
            if let lastReading { workers[pid]?.reading = lastReading }
            workerExited(pid, termination, now: now)
        case .tick(let readings): tick(readings, now: now)
        case .upgradeChecked(let failure): upgradeChecked(failure: failure)
        }
        let result = actions
        actions = []
        return result
    }

    // MARK: - Signals

    mutating func handleSignal(_ number: Int32, now: Int64) {
        guard let entry = SignalTable.entry(number) else { return }
        switch entry.master {
        case .gracefulStop: beginStop(graceful: true, entry, now: now)
        case .fastStop: beginStop(graceful: false, entry, now: now)
        case .reload: beginReload(entry)
        case .upgrade: beginUpgrade(entry)
        case .addWorker: changeWorkerCount(by: 1, entry)
        case .removeWorker: changeWorkerCount(by: -1, entry)
        case .reopenLogs:
            log(.info, "Handling signal: \(entry.logName); reopening log files")
            actions.append(.reopenLogs)
            for pid in workers.keys.sorted() { send(SIGUSR1, to: pid, reason: .reopenLogs, now: now) }
        case .wake, .ignored, .notHandled:
            break  // CHLD, WINCH: the loop reaps and keeps the worker count anyway
        }
    }

    /// TERM: stop accepting and let workers finish in-flight requests and keep-alive
    /// connections, up to graceful_timeout. INT/QUIT: stop now, also during a graceful stop.
    mutating func beginStop(graceful: Bool, _ entry: SignalEntry, now: Int64) {
        if case .stopping(true, _) = mode, !graceful {
            // A second, harder signal while draining: stop now.
        } else if case .stopping = mode {
            return
        }
        log(.info, "Handling signal: \(entry.logName); shutting down \(graceful ? "gracefully" : "now")")
        let second: Int64 = 1_000_000_000
        let timeout = graceful ? configuration.timeouts.graceful + second : second
        mode = .stopping(graceful: graceful, deadline: now + timeout)
        actions.append(.notify(.stopping(extendMicros: UInt64(timeout / 1000) + 5_000_000)))
        actions.append(.closeListeners)
        for pid in workers.keys.sorted() { send(graceful ? SIGTERM : SIGQUIT, to: pid, reason: .stop, now: now) }
    }

    mutating func changeWorkerCount(by delta: Int, _ entry: SignalEntry) {
        let next = max(1, targetWorkers + delta)
        if next == targetWorkers {
            log(.info, "Handling signal: \(entry.logName); already at 1 worker")
            return
        }
        log(.info, "Handling signal: \(entry.logName); workers \(targetWorkers) -> \(next)")
        targetWorkers = next
    }

    // MARK: - Reload (HUP)

    /// The arbiter re-reads the configuration; `.reloadResolved` or `.reloadRefused` follows.
    mutating func beginReload(_ entry: SignalEntry) {
        guard mode == .running else { return }
        if upgrade != nil {
            log(.warning, "Handling signal: \(entry.logName); ignored while an upgrade (USR2) is under way")
            return
        }
        log(.info, "Handling signal: \(entry.logName); reloading configuration")
        actions.append(.notify(.reloading))
        actions.append(.reload)
    }

    /// A valid configuration starts a new generation; the old one drains once it serves.
    mutating func startGeneration(_ fresh: Configuration) {
        pendingReload = PendingReload(previous: configuration, previousGeneration: generation)
        configuration = fresh
        actions.append(.applyConfiguration)
        targetWorkers = fresh.workers
        newestGeneration += 1
        generation = newestGeneration
        log(.info, "Configuration reloaded; starting \(targetWorkers) worker(s) of generation \(generation)")
    }

    /// The new generation could not boot: keep the previous one, which never stopped serving.
    mutating func abandonReload(_ pending: PendingReload, failedPID: Int32, now: Int64) {
        log(
            .critical,
            "worker \(failedPID) of the reloaded configuration failed to boot; keeping the previous "
                + "configuration and its workers (fix the error above, then reload again)")
        for record in workers.values.sorted(by: { $0.pid < $1.pid }) where record.generation == generation {
            workers[record.pid]?.phase = .draining(since: now)
            send(SIGKILL, to: record.pid, reason: .abandonedReload, now: now)
        }
        abandonedGenerations.insert(generation)
        configuration = pending.previous
        actions.append(.applyConfiguration)
        targetWorkers = configuration.workers
        generation = pending.previousGeneration
        pendingReload = nil
        if upgrade == .adopted {
            upgrade = .rollingBack
            log(.critical, "upgrade failed: the new binary's workers cannot boot; going back to the previous binary")
            return
        }
        actions.append(
            .notify(
                .ready(status: "reload failed: new workers could not boot; serving with the previous configuration")))
    }

    // MARK: - The one path to a worker

    /// Records `signal` in the worker's record and returns the action that delivers it.
    mutating func send(_ signal: Int32, to pid: Int32, reason: SignalReason, now: Int64) {
        if var record = workers[pid] {
            switch signal {
            case SIGTERM: record.sent = .term
            case SIGQUIT: record.sent = .quit
            case SIGKILL: record.sent = .kill
            case SIGABRT:
                record.sent = .abort
                record.abortSentAt = now
            default: break
            }
            if signal == SIGKILL { record.abortSentAt = nil }
            if signal == SIGTERM, record.phase == .ready { record.phase = .draining(since: now) }
            workers[pid] = record
        }
        actions.append(.send(signal: signal, pid: pid, reason: reason))
    }

    mutating func log(_ level: LogLine.Level, _ message: String, metadata: [String: String] = [:]) {
        actions.append(.log(LogLine(level, message, metadata: metadata)))
    }
}
