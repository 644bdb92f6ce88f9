/// What a supervised configuration must tell the arbiter's bookkeeping.
public protocol SupervisedConfiguration: Sendable {
    /// How many workers to keep serving.
    var workers: Int { get }
    /// How many job workers to keep running (0 when the application has no jobs).
    var jobWorkers: Int { get }
    var timeouts: SupervisionTimeouts { get }
}

extension SupervisedConfiguration {
    public var jobWorkers: Int { 0 }
}

/// One effect the arbiter performs for `ArbiterState`, in the order given.
public enum ArbiterAction: Sendable, Equatable {
    /// Fork a worker of this kind and generation with the state's configuration, then report
    /// `.spawned`. A failed fork is the arbiter's to log and retry on the next tick. A job
    /// worker is handed the state's `orphanedJobs`.
    case spawn(generation: UInt64, kind: WorkerRecord.Kind = .http)
    /// `kill(pid, signal)`. The state has already recorded the signal in the worker's record.
    case send(signal: Int32, pid: Int32, reason: SignalReason)
    /// Write a line to the error log.
    case log(LogLine)
    /// Tell systemd (when started with `Type=notify`).
    case notify(ServiceNotice)
    /// Re-resolve the configuration and bind the addresses it adds; report `.reloadResolved`
    /// or `.reloadRefused`.
    case reload
    /// USR2: check the new binary (fork and execute it in check mode); `.upgradeChecked` follows.
    case checkUpgrade
    /// Re-execute the master's binary in place, handing over sockets, scoreboard and workers.
    case execUpgrade
    /// The upgraded binary's workers cannot boot: re-execute the previous binary, which adopts
    /// the workers that never stopped serving.
    case rollbackUpgrade
    /// The configuration changed (a reload, or the fallback after one failed): apply its log level.
    case applyConfiguration
    /// Reopen the master's log files.
    case reopenLogs
    /// Stop accepting: close the listening sockets the master bound itself.
    case closeListeners
    /// Wait for the workers just sent SIGKILL, clean up and exit with this code.
    case halt(code: Int32)
    /// Every worker has exited after a stop: clean up and exit 0.
    case finishStop
}

/// Why the master sends a worker a signal.
public enum SignalReason: Sendable, Equatable {
    /// TERM, INT or QUIT to the master: the whole server stops.
    case stop
    /// The worker is no longer wanted (new generation, max_requests, TTOU).
    case drain(SupervisionPolicy.DrainReason)
    /// USR1 to the master: the workers reopen their logs too.
    case reopenLogs
    /// Busy on one request longer than `timeout`, or on one job longer than `job_timeout`.
    case requestTimeout
    /// No heartbeat for longer than `timeout` outside a request.
    case missedHeartbeat
    /// Still alive after SIGABRT.
    case stillAliveAfterAbort
    /// Did not become ready within `boot_timeout`.
    case bootTimeout
    /// Draining longer than `graceful_timeout`.
    case gracefulTimeout
    /// Still alive when the stop's deadline passed.
    case stopTimeout
    /// A worker of a reload that failed to boot.
    case abandonedReload
    /// The master halts (a worker could not boot).
    case halt
}

/// A line for the error log.
public struct LogLine: Sendable, Equatable {
    public enum Level: Sendable, Equatable { case debug, info, warning, error, critical }
    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// What the master tells systemd.
public enum ServiceNotice: Sendable, Equatable {
    /// RELOADING=1: a reload began.
    case reloading
    /// READY=1 again after a reload ended (completed, refused or abandoned), with a STATUS= text.
    case ready(status: String?)
    /// STOPPING=1, with how much longer the stop may take (EXTEND_TIMEOUT_USEC).
    case stopping(extendMicros: UInt64)
}
