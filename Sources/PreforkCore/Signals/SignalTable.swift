#if canImport(Glibc)
    import Glibc
#endif

/// What the master does with a signal.
public enum MasterSignalRole: Sendable, Equatable {
    /// Closes the sockets, tells the workers to drain, stops at `graceful_timeout` at the latest.
    case gracefulStop
    /// Tells the workers to exit now and stops.
    case fastStop
    /// Re-reads the configuration and starts a new generation of workers.
    case reload
    /// One worker more.
    case addWorker
    /// One worker fewer (never below 1).
    case removeWorker
    /// Reopens the log files and tells the workers to.
    case reopenLogs
    /// Re-executes the master's binary in place (same PID and sockets), which adopts the workers.
    case upgrade
    /// Only wakes the loop, which reaps and keeps the worker count anyway.
    case wake
    /// Set to SIG_IGN.
    case ignored
    /// Left at its default action.
    case notHandled
}

/// What a worker does with a signal.
public enum WorkerSignalRole: Sendable, Equatable {
    /// Stops accepting, finishes its connections, exits.
    case drain
    /// Exits at once.
    case exitNow
    /// Reopens the log files.
    case reopenLogs
    /// Set to SIG_IGN.
    case ignored
    /// Left at its default action.
    case notHandled
    /// Set back to its default action right after fork, so it ends the worker at once: the Swift
    /// runtime's backtracer would otherwise catch it and let the worker run on for about a second
    /// (long enough to finish and answer a request that timed out).
    case defaultAction
}

/// Who a signal is for, which decides where the docs list it.
public enum SignalAudience: Sendable, Equatable {
    /// An operator sends it to the master (README and docs/operations.md).
    case operatorCommand
    /// The system sends it, or it is deliberately unsupported (docs/operations.md).
    case system
    /// The master sends it to a worker (docs/operations.md).
    case sentByMaster
    /// Only named in log lines (a worker's crash).
    case logOnly
}

/// One signal: its number and name, what the master and a worker do with it, and what it means
/// to an operator. Every other place derives from `SignalTable.all`.
public struct SignalEntry: Sendable {
    public let number: Int32
    /// The name without `SIG`: `TERM`.
    public let name: String
    public let master: MasterSignalRole
    public let worker: WorkerSignalRole
    public let audience: SignalAudience
    /// One line for the README: what an operator gets by sending it.
    public let summary: String
    /// What happens, in full (docs/operations.md).
    public let meaning: String
    /// What a worker does, when the role alone does not say it.
    public let workerNote: String?
    /// The error-log line that shows it was handled (docs/operations.md).
    public let logLine: String

    /// The conventional name: `SIGTERM`.
    public var fullName: String { "SIG" + name }
    /// The name in the master's "Handling signal: term" lines.
    public var logName: String { name.lowercased() }
}

/// The one table of signals, as nginx's `signals[]`: the master's handlers, the worker's
/// handled and ignored sets, the reset after fork, the names in log lines and the signal tables
/// in README.md and docs/operations.md are all derived from it.
public enum SignalTable {
    public static let all: [SignalEntry] = operatorSignals + systemSignals + workerDeathSignals

    static let operatorSignals: [SignalEntry] = [
        SignalEntry(
            number: SIGTERM, name: "TERM", master: .gracefulStop, worker: .drain, audience: .operatorCommand,
            summary: "graceful stop: finish in-flight requests and keep-alive connections, up to `graceful_timeout`",
            meaning: "Graceful stop: the master closes its sockets, workers stop accepting, finish in-flight "
                + "requests and answer the next request on each keep-alive connection with `Connection: close`, "
                + "up to `graceful_timeout`; then `SIGKILL`. Exit 0.",
            workerNote: nil,
            logLine: "`Handling signal: term; shutting down gracefully` … `Shutting down: master`"),
        SignalEntry(
            number: SIGINT, name: "INT", master: .fastStop, worker: .exitNow, audience: .operatorCommand,
            summary: "stop now",
            meaning: "Fast stop: workers exit at once. Exit 0. Sent during a graceful stop, it makes the stop fast.",
            workerNote: nil, logLine: "`Handling signal: int; shutting down now`"),
        SignalEntry(
            number: SIGQUIT, name: "QUIT", master: .fastStop, worker: .exitNow, audience: .operatorCommand,
            summary: "stop now", meaning: "Fast stop, as `INT`.", workerNote: nil,
            logLine: "`Handling signal: quit; shutting down now`"),
        SignalEntry(
            number: SIGHUP, name: "HUP", master: .reload, worker: .ignored, audience: .operatorCommand,
            summary: "re-read config file and environment; start new workers, then drain the old ones",
            meaning: "Reload: re-read the config file and environment. New workers start; old ones drain only "
                + "when all new ones serve. An invalid configuration is refused and nothing changes; a "
                + "configuration whose workers cannot boot is abandoned and the old workers keep serving.",
            workerNote: nil,
            logLine: "`Configuration reloaded; starting N worker(s) of generation G`, then `Stopping worker P "
                + "gracefully: replaced by generation G`; or `reload refused, still serving with the previous "
                + "configuration: …`"),
        SignalEntry(
            number: SIGTTIN, name: "TTIN", master: .addWorker, worker: .ignored, audience: .operatorCommand,
            summary: "one worker more", meaning: "One worker more. Reset to `workers` by the next reload.",
            workerNote: nil, logLine: "`Handling signal: ttin; workers 2 -> 3`"),
        SignalEntry(
            number: SIGTTOU, name: "TTOU", master: .removeWorker, worker: .ignored, audience: .operatorCommand,
            summary: "one worker fewer",
            meaning: "One worker fewer (never below 1): the oldest drains. Reset to `workers` by the next reload.",
            workerNote: nil, logLine: "`Handling signal: ttou; workers 3 -> 2`"),
        SignalEntry(
            number: SIGUSR1, name: "USR1", master: .reopenLogs, worker: .reopenLogs, audience: .operatorCommand,
            summary: "reopen log files (after logrotate)",
            meaning: "Reopen the error and access logs (master and workers), after logrotate moved them.",
            workerNote: nil, logLine: "`Handling signal: usr1; reopening log files`"),
        SignalEntry(
            number: SIGUSR2, name: "USR2", master: .upgrade, worker: .ignored, audience: .operatorCommand,
            summary: "upgrade in place: re-execute the binary (same PID and sockets), new workers, then drain the old",
            meaning: "Upgrade in place: the master checks the binary at the path it was started from, then "
                + "re-executes it keeping its PID and sockets; the new master adopts the running workers, "
                + "starts new ones and drains the old ones once the new ones serve, as `HUP` does. A binary that "
                + "fails its check changes nothing; one whose workers cannot boot is rolled back to the previous "
                + "binary, whose workers never stopped serving. Send it to the master only "
                + "(`systemctl kill -s USR2 --kill-whom=main`).",
            workerNote: nil,
            logLine:
                "`Handling signal: usr2; upgrading in place: checking the new binary` … `Upgrade complete: generation G "
                + "is serving`; or `upgrade abandoned: …; the running master and its workers keep serving`"),
    ]

    static let systemSignals: [SignalEntry] = [
        SignalEntry(
            number: SIGCHLD, name: "CHLD", master: .wake, worker: .notHandled, audience: .system,
            summary: "", meaning: "A worker died: the master reaps it, logs why, and replaces it.",
            workerNote: "Default (ignored).", logLine: "see [Worker deaths](#worker-deaths-and-what-they-mean)"),
        SignalEntry(
            number: SIGWINCH, name: "WINCH", master: .wake, worker: .ignored, audience: .system, summary: "",
            meaning: "Nothing (a terminal was resized; Gunicorn's \"stop the workers of a daemon\" is not supported).",
            workerNote: nil, logLine: "none"),
        SignalEntry(
            number: SIGPIPE, name: "PIPE", master: .ignored, worker: .ignored, audience: .system, summary: "",
            meaning: "Ignored: a write to a closed connection fails with `EPIPE` instead.", workerNote: nil,
            logLine: "none"),
        SignalEntry(
            number: SIGABRT, name: "ABRT", master: .notHandled, worker: .defaultAction, audience: .sentByMaster,
            summary: "",
            meaning: "Sent by the master to a worker stuck on a request (or outside one) longer than `timeout`; "
                + "`SIGKILL` follows 2 s later if it is still alive.",
            workerNote: "Ends at once, without answering the request (no backtrace).",
            logLine: "`WORKER TIMEOUT: worker P …; sending SIGABRT`"),
        SignalEntry(
            number: SIGKILL, name: "KILL", master: .notHandled, worker: .notHandled, audience: .sentByMaster,
            summary: "",
            meaning: "Sent by the master to a worker still alive after `SIGABRT`, `boot_timeout` or "
                + "`graceful_timeout`, and to every worker when a stop times out or the master halts. "
                + "A `SIGKILL` the master did not send is usually the kernel's OOM killer.",
            workerNote: "Ends at once.", logLine: "`… sending SIGKILL`"),
    ]

    /// Named in the lines that explain a worker's death; nobody handles them.
    static let workerDeathSignals: [SignalEntry] = [
        (SIGILL, "ILL"), (SIGTRAP, "TRAP"), (SIGBUS, "BUS"), (SIGFPE, "FPE"), (SIGSEGV, "SEGV"), (SIGALRM, "ALRM"),
    ].map { number, name in
        SignalEntry(
            number: number, name: name, master: .notHandled, worker: .notHandled, audience: .logOnly, summary: "",
            meaning: "A worker's death by this signal is explained in its log line.", workerNote: nil,
            logLine: "`worker P crashed with SIG\(name)…` or `worker P was killed by SIG\(name)`")
    }

    /// The entry of a signal number, if the table has one.
    public static func entry(_ number: Int32) -> SignalEntry? {
        all.first { $0.number == number }
    }

    /// The name in log lines: `SIGKILL`, or `signal 42` for one the table does not know.
    public static func name(of number: Int32) -> String {
        entry(number)?.fullName ?? "signal \(number)"
    }

    /// The signals the master catches (its handler only queues them for the loop).
    public static var masterHandled: [Int32] {
        all.filter { $0.master != .ignored && $0.master != .notHandled }.map(\.number)
    }

    /// The signals the master sets to SIG_IGN.
    public static var masterIgnored: [Int32] { all.filter { $0.master == .ignored }.map(\.number) }

    /// The signals a worker catches (its handler only queues them for its loop).
    public static var workerHandled: [Int32] {
        all.filter { $0.worker != .ignored && $0.worker != .notHandled && $0.worker != .defaultAction }.map(\.number)
    }

    /// The signals a worker sets to SIG_IGN.
    public static var workerIgnored: [Int32] { all.filter { $0.worker == .ignored }.map(\.number) }

    /// What a new worker resets to the default action right after fork: the master's handlers,
    /// which would otherwise write into the master's signal pipe.
    public static var resetAfterFork: [Int32] {
        masterHandled + all.filter { $0.worker == .defaultAction }.map(\.number)
    }
}
