import CPreforkShims
import CoreMetrics
import Logging
import PreforkCore
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The master process. Its loop reads as Gunicorn's does: sleep until a signal or a tick,
/// handle the queued signals, reap dead workers, then let the bookkeeping kill stale workers
/// and keep the worker count. Every decision is `ArbiterState`'s; this class performs the
/// actions it returns (fork, kill, log, notify systemd) and nothing else.
/// It is single-threaded: nothing here starts a thread, so every fork is safe.
final class Arbiter {
    typealias State = ArbiterState<ServerRuntime>

    var state: State
    let resolver: RuntimeResolver
    let logFiles: LogFiles
    var logger: Logger
    var listeners: [Listener] = []
    /// The `metrics_bind` listener, if set.
    var metricsListener: Listener?
    var scoreboard: Scoreboard
    var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    var lastSpawnFailure: Int64 = 0
    var metricsBootstrapped = false
    let masterPID = getpid()
    /// Names this run of the server in the jobs a job worker claims: a job still marked running
    /// by another server died with it.
    var serverID = "\(getpid())@\(Clock.realtime() / 1_000_000_000)"
    /// What the previous image of this master handed over (USR2), if it was re-executed.
    var handoff: UpgradeHandoff?
    /// The new binary being checked for an upgrade, and when the check times out.
    var upgradeCheck: (pid: Int32, deadline: Int64, path: String)?
    /// After an upgrade, the previous binary and its command line, kept open for a rollback.
    var rollbackFiles: (binary: Int32, command: Int32) = (-1, -1)
    /// systemd's notify socket, when started with `Type=notify`.
    let notifier = ServiceNotifier(environment: RuntimeResolver.environment())
    var service = ServiceStatus()

    /// The configuration of the current generation.
    var runtime: ServerRuntime { state.configuration }

    init(runtime: ServerRuntime, resolver: RuntimeResolver, logFiles: LogFiles, logger: Logger) throws(SystemError) {
        self.state = State(configuration: runtime, bootFailureCode: WorkerExit.bootFailure)
        self.resolver = resolver
        self.logFiles = logFiles
        self.logger = logger
        if let text = RuntimeResolver.environment()[UpgradeHandoff.environmentName] {
            unsetenv(UpgradeHandoff.environmentName)
            let handoff: UpgradeHandoff
            switch UpgradeHandoff.decode(text) {
            case .success(let decoded): handoff = decoded
            case .failure(let error): throw SystemError("upgrade", context: "\(error)")
            }
            self.scoreboard = try Scoreboard(inheriting: handoff.scoreboard)
            self.handoff = handoff
            self.serverID = handoff.serverID
            self.rollbackFiles = (handoff.previousBinary, handoff.previousCommand)
            for fd in [handoff.previousBinary, handoff.previousCommand] where fd >= 0 { _ = prefork_set_cloexec(fd, 1) }
        } else {
            self.scoreboard = try Scoreboard(capacity: 2 * 1024 + 64)
        }
    }

    // MARK: - Main loop

    /// Runs until the server stops; returns the process exit code.
    func run() -> Int32 {
        do {
            try start()
        } catch {
            logger.critical("\(error)")
            return 1
        }
        while true {
            if let code = feed(.tick(readings: slotReadings())) { return code }
            checkUpgradeDeadline()
            if state.upgrade == nil && rollbackFiles.binary >= 0 { closeRollbackFiles() }
            notifyServiceManager()
            sleepUntilSignalOrTick()
            for signal in queuedSignals() {
                if let code = feed(.signal(signal)) { return code }
            }
            if let code = reapWorkers() { return code }
        }
    }

    private func start() throws(SystemError) {
        try setUpSignals()
        if let handoff { try adoptListeners(handoff) } else { try bindListeners() }
        try writePIDFile()
        logger.info("Starting \(resolver.name) \(resolver.version) (prefork)")
        for listener in listeners { logger.info("Listening at: \(listener.address) (\(masterPID))") }
        if let metrics = metricsListener {
            logger.info("Serving metrics at: \(metrics.address)/metrics")
            bootstrapMetrics()
        }
        let jobs = runtime.jobWorkers
        logger.info("Using \(state.targetWorkers) worker(s)\(jobs > 0 ? " and \(jobs) job worker(s)" : "")")
        resolver.application.preload(runtime.configuration, logger: logger)
        service.watchdogInterval = ServiceNotifier.watchdogInterval()
        // Workers may legitimately take up to boot_timeout to start: tell systemd before its
        // TimeoutStartSec= runs out.
        notify(.mainPID(masterPID), .extendTimeout(micros: UInt64(max(0, runtime.timeouts.boot)) / 1000 + 10_000_000))
        if let handoff { adoptWorkers(handoff) }
    }

    /// Points swift-metrics at the shared table, once per process (before the workers fork, so
    /// they inherit it). An application that bootstraps swift-metrics itself leaves metrics_bind unset.
    func bootstrapMetrics() {
        guard !metricsBootstrapped else { return }
        metricsBootstrapped = true
        MetricsSystem.bootstrap(SharedMetricsFactory(scoreboard.shared))
    }

    private func sleepUntilSignalOrTick() {
        var pollfd = Glibc.pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&pollfd, 1, 200)
    }

    /// Feeds one event to the bookkeeping and performs what it returns.
    @discardableResult
    func feed(_ event: State.Event) -> Int32? {
        perform(state.handle(event, now: Clock.monotonic()))
    }

    /// Performs the actions in order; returns an exit code when the master must exit.
    @discardableResult
    func perform(_ actions: [ArbiterAction]) -> Int32? {
        for action in actions {
            switch action {
            case .spawn(let generation, let kind): spawnWorker(generation: generation, kind: kind)
            case .send(let signal, let pid, _): _ = kill(pid, signal)
            case .log(let line): log(line)
            case .notify(let notice): notify(notice)
            case .reload: reload()
            case .checkUpgrade: checkUpgrade()
            case .execUpgrade: execUpgrade(rollback: false)
            case .rollbackUpgrade: execUpgrade(rollback: true)
            case .applyConfiguration: runtime.applyLogging(to: &logger)
            case .reopenLogs: logFiles.reopen()
            case .closeListeners: closeOwnListeners()
            case .halt(let code): return halt(code)
            case .finishStop: return finishStop()
            }
        }
        return nil
    }

    private func log(_ line: LogLine) {
        let metadata = line.metadata.isEmpty ? nil : line.metadata.mapValues { Logger.MetadataValue.string($0) }
        switch line.level {
        case .debug: logger.debug("\(line.message)", metadata: metadata)
        case .info: logger.info("\(line.message)", metadata: metadata)
        case .warning: logger.warning("\(line.message)", metadata: metadata)
        case .error: logger.error("\(line.message)", metadata: metadata)
        case .critical: logger.critical("\(line.message)", metadata: metadata)
        }
    }

    // MARK: - Signals

    /// The handlers of `SignalTable.masterHandled` only write the signal number into a pipe;
    /// the loop reads them with `queuedSignals()`.
    private func setUpSignals() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        try syscall("pipe2", context: "master signal pipe") { prefork_pipe(&fds) }
        signalPipe = (fds[0], fds[1])
        let result = SignalTable.masterHandled.withUnsafeBufferPointer {
            prefork_install_signal_pipe(signalPipe.write, $0.baseAddress, Int32($0.count))
        }
        if result != 0 { throw SystemError("sigaction") }
        for signal in SignalTable.masterIgnored { _ = prefork_ignore_signal(signal) }
    }

    private func queuedSignals() -> [Int32] {
        var bytes = [UInt8](repeating: 0, count: 128)
        let n = read(signalPipe.read, &bytes, bytes.count)
        guard n > 0 else { return [] }
        return bytes[0..<n].map { Int32($0) }
    }

    // MARK: - Reload (HUP)

    /// Re-reads the configuration (file and environment) and binds what it adds. A configuration
    /// that does not validate or bind is refused; a valid one starts a new generation.
    private func reload() {
        let fresh: ServerRuntime
        do {
            fresh = try resolver.reloadRuntime()
            try rebind(for: fresh)
        } catch {
            feed(.reloadRefused(reason: "\(error)"))
            return
        }
        feed(.reloadResolved(fresh))
    }

    // MARK: - Reaping

    /// Collects every dead worker, frees its slot and reports its exit.
    private func reapWorkers() -> Int32? {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return nil }
            if pid == upgradeCheck?.pid {
                upgradeCheckExited(status: status)
                continue
            }
            guard let record = state.workers[pid] else { continue }
            let lastReading = scoreboard.reading(at: record.slot)
            scoreboard.release(record.slot)
            let termination: SupervisionPolicy.Termination =
                prefork_wifsignaled(status) != 0
                ? .signaled(signal: prefork_wtermsig(status), coreDumped: prefork_wcoredump(status) != 0)
                : .exited(code: prefork_wexitstatus(status))
            scoreboard.countExit(
                ExitCause.of(
                    termination, sent: record.sent, wasReady: record.phase != .booting,
                    bootFailureCode: WorkerExit.bootFailure))
            if let code = feed(.exited(pid: pid, termination: termination, lastReading: lastReading)) { return code }
        }
    }

    /// What every worker last wrote in its slot.
    private func slotReadings() -> [Int32: SlotReading] {
        var readings: [Int32: SlotReading] = [:]
        for record in state.workers.values { readings[record.pid] = scoreboard.reading(at: record.slot) }
        return readings
    }

    // MARK: - Stopping

    private func finishStop() -> Int32 {
        cleanUp()
        logger.info("Shutting down: master")
        return 0
    }

    /// The workers were just sent SIGKILL: wait for them, then exit with `code`.
    private func halt(_ code: Int32) -> Int32 {
        var remaining = Set(state.workers.keys)
        while !remaining.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 { break }
            remaining.remove(pid)
        }
        cleanUp()
        logger.critical("Shutting down: master (exit code \(code))")
        return code
    }

    private func cleanUp() {
        for listener in listeners { listener.close() }
        listeners = []
        metricsListener?.close()
        metricsListener = nil
        if let path = runtime.pidFile { unlink(path) }
    }
}
