import CPreforkShims
import Logging
import PreforkCore
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The master process. Its loop reads as Gunicorn's does: sleep until a signal or a tick,
/// handle the queued signals, reap dead workers, kill stale ones, keep the worker count.
/// It is single-threaded: nothing here starts a thread, so every fork is safe.
final class Arbiter {
    struct Record {
        var pid: Int32
        var slot: Int
        var generation: UInt64
        var spawnedAt: Int64
        var phase: WorkerView.Phase
        var sent: SupervisionPolicy.SentSignal = .none
        var abortSentAt: Int64?
    }

    /// A reload in progress, kept until the new generation serves, so a generation that cannot
    /// boot is abandoned and the previous one keeps serving.
    struct PendingReload {
        var previous: ServerRuntime
        var previousGeneration: UInt64
    }

    enum State: Equatable {
        case running
        case stopping(graceful: Bool, deadline: Int64)
    }

    var runtime: ServerRuntime
    let launcher: RuntimeLauncher
    var logger: Logger
    var listeners: [Listener] = []
    var scoreboard: Scoreboard
    var workers: [Int32: Record] = [:]
    var generation: UInt64 = 1
    /// The newest generation ever started; generation numbers are never reused.
    var newestGeneration: UInt64 = 1
    /// Generations of reloads whose workers could not boot.
    var abandonedGenerations: Set<UInt64> = []
    var targetWorkers: Int
    var state: State = .running
    var pendingReload: PendingReload?
    var haltCode: Int32?
    var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    var lastSpawnFailure: Int64 = 0
    let masterPID = getpid()
    /// systemd's notify socket, when started with `Type=notify`.
    let notifier = ServiceNotifier(environment: RuntimeLauncher.environment())
    var service = ServiceStatus()

    static let handledSignals: [Int32] = [
        SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU, SIGUSR1, SIGCHLD, SIGWINCH,
    ]

    init(runtime: ServerRuntime, launcher: RuntimeLauncher, logger: Logger) throws(SystemError) {
        self.runtime = runtime
        self.launcher = launcher
        self.logger = logger
        self.targetWorkers = runtime.workers
        self.scoreboard = try Scoreboard(capacity: 2 * 1024 + 64)
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
            sleepUntilSignalOrTick()
            handleSignals()
            reapWorkers()
            if let code = haltCode { return halt(code) }
            if case .stopping(let graceful, let deadline) = state {
                if workers.isEmpty { return finishStop() }
                if Clock.monotonic() >= deadline { killAll(reason: graceful ? "graceful_timeout" : "quit") }
                continue
            }
            murderStaleWorkers()
            manageWorkers()
            notifyServiceManager()
        }
    }

    private func start() throws(SystemError) {
        try setUpSignals()
        try bindListeners()
        try writePIDFile()
        logger.info("Starting \(launcher.name) \(launcher.version) (prefork)")
        for listener in listeners { logger.info("Listening at: \(listener.address) (\(masterPID))") }
        logger.info("Using \(targetWorkers) worker(s)")
        service.watchdogInterval = ServiceNotifier.watchdogInterval()
        // Workers may legitimately take up to boot_timeout to start: tell systemd before its
        // TimeoutStartSec= runs out.
        notify(.mainPID(masterPID), .extendTimeout(micros: UInt64(max(0, runtime.timeouts.boot)) / 1000 + 10_000_000))
        manageWorkers()
    }

    private func sleepUntilSignalOrTick() {
        var pollfd = Glibc.pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&pollfd, 1, 200)
    }

    // MARK: - Signals

    private func setUpSignals() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        try syscall("pipe2", context: "master signal pipe") { prefork_pipe(&fds) }
        signalPipe = (fds[0], fds[1])
        let result = Arbiter.handledSignals.withUnsafeBufferPointer {
            prefork_install_signal_pipe(signalPipe.write, $0.baseAddress, Int32($0.count))
        }
        if result != 0 { throw SystemError("sigaction") }
        _ = prefork_ignore_signal(SIGPIPE)
    }

    /// Handles every queued signal. Signal meanings are Gunicorn's.
    private func handleSignals() {
        var bytes = [UInt8](repeating: 0, count: 128)
        let n = read(signalPipe.read, &bytes, bytes.count)
        guard n > 0 else { return }
        for byte in bytes[0..<n] {
            let signal = Int32(byte)
            switch signal {
            case SIGTERM: beginStop(graceful: true, signal: "SIGTERM")
            case SIGINT: beginStop(graceful: false, signal: "SIGINT")
            case SIGQUIT: beginStop(graceful: false, signal: "SIGQUIT")
            case SIGHUP: reload()
            case SIGTTIN: changeWorkerCount(by: 1)
            case SIGTTOU: changeWorkerCount(by: -1)
            case SIGUSR1: reopenLogs()
            default: break  // SIGCHLD, SIGWINCH: the loop reaps and manages anyway
            }
        }
    }

    /// TERM: stop accepting and let workers finish in-flight requests and keep-alive
    /// connections, up to graceful_timeout. INT/QUIT: stop now.
    private func beginStop(graceful: Bool, signal: String) {
        if case .stopping(true, _) = state, !graceful {
            // A second, harder signal while draining: stop now.
        } else if case .stopping = state {
            return
        }
        logger.info(
            graceful
                ? "Handling signal: term; shutting down gracefully"
                : "Handling signal: \(signal.lowercased().dropFirst(3)); shutting down now")
        let timeout = graceful ? runtime.gracefulTimeoutNanos + 1_000_000_000 : 1_000_000_000
        state = .stopping(graceful: graceful, deadline: Clock.monotonic() + timeout)
        notify(.stopping, .extendTimeout(micros: UInt64(timeout / 1000) + 5_000_000), .status("stopping"))
        for listener in listeners where !listener.inherited { _ = close(listener.fd) }
        for pid in workers.keys { send(graceful ? SIGTERM : SIGQUIT, to: pid) }
    }

    private func changeWorkerCount(by delta: Int) {
        let next = max(1, targetWorkers + delta)
        if next == targetWorkers {
            logger.info("Handling signal: ttou; already at 1 worker")
            return
        }
        logger.info("Handling signal: \(delta > 0 ? "ttin" : "ttou"); workers \(targetWorkers) -> \(next)")
        targetWorkers = next
    }

    private func reopenLogs() {
        logger.info("Handling signal: usr1; reopening log files")
        LogFiles.shared.reopen()
        for pid in workers.keys { send(SIGUSR1, to: pid) }
    }

    // MARK: - Reload (HUP)

    /// Re-reads the configuration (file and environment). A configuration that does not
    /// validate is refused with one log line and the current workers keep serving; a valid one
    /// starts a new generation of workers, and the old ones drain once it serves.
    private func reload() {
        guard state == .running else { return }
        logger.info("Handling signal: hup; reloading configuration")
        notify(.reloading(monotonicMicros: UInt64(Clock.monotonic() / 1000)))
        let fresh: ServerRuntime
        do {
            fresh = try launcher.reloadRuntime()
        } catch {
            logger.error("reload refused, still serving with the previous configuration: \(error)")
            notify(.ready, .status("reload refused: \(error)"))
            return
        }
        do {
            try rebind(for: fresh)
        } catch {
            logger.error("reload refused, still serving with the previous configuration: \(error)")
            notify(.ready, .status("reload refused: \(error)"))
            return
        }
        pendingReload = PendingReload(previous: runtime, previousGeneration: generation)
        runtime = fresh
        runtime.applyLogging(to: &logger)
        targetWorkers = fresh.workers
        newestGeneration += 1
        generation = newestGeneration
        logger.info("Configuration reloaded; starting \(targetWorkers) worker(s) of generation \(generation)")
    }

    /// Binds addresses the new configuration adds; closes the ones it drops (old workers
    /// keep their copies until they drain).
    private func rebind(for fresh: ServerRuntime) throws(SystemError) {
        if listeners.contains(where: \.inherited) { return }  // systemd owns the sockets
        var kept: [Listener] = []
        var added: [Listener] = []
        for address in fresh.binds {
            if let existing = listeners.first(where: { $0.address == address }) {
                kept.append(existing)
                continue
            }
            do {
                added.append(try Listener.bind(address, options: fresh.listenerOptions))
            } catch {
                for listener in added { listener.close() }
                throw error
            }
        }
        for listener in listeners where !kept.contains(where: { $0.fd == listener.fd }) { listener.close() }
        listeners = kept + added
    }

    // MARK: - Workers

    /// Forks or drains workers per the policy.
    private func manageWorkers() {
        let plan = SupervisionPolicy.plan(workers: views(), target: targetWorkers, generation: generation)
        for (pid, reason) in plan.drain {
            let why: String
            switch reason {
            case .replacedByNewGeneration: why = "replaced by generation \(generation)"
            case .retired: why = "reached max_requests, replacement is serving"
            case .surplus: why = "fewer workers wanted"
            }
            logger.info("Stopping worker \(pid) gracefully: \(why)")
            workers[pid]?.phase = .draining(since: Clock.monotonic())
            send(SIGTERM, to: pid)
        }
        if pendingReload != nil && !workers.values.contains(where: { $0.generation != generation && !isDraining($0) }) {
            pendingReload = nil
            logger.info("Reload complete: generation \(generation) is serving")
            notify(.ready)
        }
        for _ in 0..<plan.spawn { spawnWorker() }
    }

    private func isDraining(_ record: Record) -> Bool {
        if case .draining = record.phase { return true }
        return false
    }

    private func views() -> [WorkerView] {
        workers.values.map { record in
            let slot = scoreboard[record.slot]
            let request = scoreboard.request(at: record.slot)
            return WorkerView(
                pid: record.pid, generation: record.generation, phase: currentPhase(record),
                spawnedAt: record.spawnedAt, busySince: request?.start,
                heartbeat: prefork_slot_load_heartbeat(slot), retireRequested: slot.pointee.retire_requested != 0,
                abortSentAt: record.abortSentAt)
        }
    }

    /// Promotes a booting worker to ready once its slot says it serves.
    private func currentPhase(_ record: Record) -> WorkerView.Phase {
        guard record.phase == .booting else { return record.phase }
        let state = prefork_slot_load_state(scoreboard[record.slot])
        if state == UInt32(PREFORK_SLOT_IDLE) || state == UInt32(PREFORK_SLOT_BUSY) {
            workers[record.pid]?.phase = .ready
            logger.debug("worker \(record.pid) is ready")
            return .ready
        }
        return .booting
    }

    private func spawnWorker() {
        guard let slotIndex = scoreboard.claim(generation: generation) else {
            logger.error("cannot start a worker: all \(scoreboard.capacity) scoreboard slots are in use")
            return
        }
        let own = workerOwnSockets()
        assertSingleThreaded()
        let pid = prefork_fork()
        for listener in own where pid != 0 { _ = close(listener.fd) }
        if pid < 0 {
            scoreboard.release(slotIndex)
            let now = Clock.monotonic()
            if now - lastSpawnFailure > 5_000_000_000 {
                logger.error("cannot start a worker: \(SystemError("fork")); will retry")
                lastSpawnFailure = now
            }
            return
        }
        if pid == 0 {
            let code = WorkerProcess.run(
                runtime: runtime, launcher: launcher, listeners: (listeners + own).map(\.fd),
                slot: scoreboard[slotIndex],
                masterPID: masterPID, masterSignalPipe: signalPipe, logger: logger)
            _exit(code)
        }
        scoreboard[slotIndex].pointee.pid = pid
        workers[pid] = Record(
            pid: pid, slot: slotIndex, generation: generation, spawnedAt: Clock.monotonic(), phase: .booting)
        logger.info("Booting worker with pid: \(pid)")
    }

    /// With `reuse_port`, each worker also gets TCP sockets of its own in the SO_REUSEPORT group,
    /// so the kernel spreads new connections over the workers; the shared socket stays as well,
    /// so no connection waits on a socket nobody accepts from. Connections queued on a worker's
    /// own socket are lost if that worker dies (the known trade-off of SO_REUSEPORT).
    private func workerOwnSockets() -> [Listener] {
        guard runtime.listenerOptions.reusePort else { return [] }
        var own: [Listener] = []
        for listener in listeners where !listener.inherited {
            guard case .tcp = listener.address else { continue }
            do {
                own.append(try Listener.bind(listener.address, options: runtime.listenerOptions))
            } catch {
                logger.warning(
                    "reuse_port: cannot open a worker socket for \(listener.address): \(error); the worker uses the shared one"
                )
            }
        }
        return own
    }

    /// In debug builds, proves the master has one thread before every fork.
    private func assertSingleThreaded() {
        #if DEBUG
            let threads = prefork_thread_count()
            assert(threads == 1, "the master has \(threads) threads before fork; it must stay single-threaded")
        #endif
    }

    // MARK: - Reaping

    /// Collects every dead worker, logs why it died, and frees its slot.
    private func reapWorkers() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            guard let record = workers.removeValue(forKey: pid) else { continue }
            service.retiredRequests += scoreboard[record.slot].pointee.requests
            scoreboard.release(record.slot)
            let termination: SupervisionPolicy.Termination =
                prefork_wifsignaled(status) != 0
                ? .signaled(signal: prefork_wtermsig(status), coreDumped: prefork_wcoredump(status) != 0)
                : .exited(code: prefork_wexitstatus(status))
            var verdict = SupervisionPolicy.judgeExit(
                pid: pid, termination: termination, sent: record.sent, wasReady: record.phase != .booting,
                bootFailureCode: WorkerExit.bootFailure, signalName: signalName)
            if verdict.haltCode != nil, let pending = pendingReload, record.generation == generation {
                abandonReload(pending, failedPID: pid)
                continue
            }
            if abandonedGenerations.contains(record.generation) {
                // A worker of a reload already abandoned: its failure was reported once.
                logger.info("worker \(pid) of the abandoned reload exited")
                continue
            }
            if verdict.haltCode == nil && verdict.level != .info && state == .running {
                verdict.message += "; replacing it"
            }
            log(verdict)
            if let code = verdict.haltCode, state == .running { haltCode = code }
        }
    }

    /// A new generation could not boot: keep the previous one, which never stopped serving.
    private func abandonReload(_ pending: PendingReload, failedPID: Int32) {
        let message =
            "worker \(failedPID) of the reloaded configuration failed to boot; keeping the previous "
            + "configuration and its workers (fix the error above, then reload again)"
        logger.critical("\(message)")
        for record in workers.values where record.generation == generation {
            workers[record.pid]?.sent = .kill
            workers[record.pid]?.phase = .draining(since: Clock.monotonic())
            _ = kill(record.pid, SIGKILL)
        }
        abandonedGenerations.insert(generation)
        runtime = pending.previous
        runtime.applyLogging(to: &logger)
        targetWorkers = runtime.workers
        generation = pending.previousGeneration
        pendingReload = nil
        notify(.ready, .status("reload failed: new workers could not boot; serving with the previous configuration"))
    }

    private func log(_ verdict: SupervisionPolicy.ExitVerdict) {
        switch verdict.level {
        case .info: logger.info("\(verdict.message)")
        case .warning: logger.warning("\(verdict.message)")
        case .error: logger.error("\(verdict.message)")
        case .critical: logger.critical("\(verdict.message)")
        }
    }

    // MARK: - Timeouts

    /// Applies the request, boot and graceful timeouts; the log line names the request a stuck
    /// worker was serving.
    private func murderStaleWorkers() {
        let now = Clock.monotonic()
        let timeouts = runtime.timeouts
        for view in views() {
            switch SupervisionPolicy.staleAction(for: view, now: now, timeouts: timeouts) {
            case .none:
                continue
            case .abortForRequestTimeout(let seconds):
                let request = scoreboard.request(at: workers[view.pid]!.slot)
                let method = request?.method ?? "-"
                let path = request?.path ?? "-"
                let rid = request?.requestID ?? "-"
                let limit = format(Double(timeouts.request) / 1e9)
                logger.error(
                    "WORKER TIMEOUT: worker \(view.pid) spent \(format(seconds))s on \(method) \(path) (request_id=\(rid)), over the \(limit)s timeout; sending SIGABRT",
                    metadata: [
                        "worker_pid": "\(view.pid)", "request_id": "\(rid)", "http_method": "\(method)",
                        "http_path": "\(path)",
                    ])
                abort(view.pid, at: now)
            case .abortForMissedHeartbeat(let seconds):
                logger.error(
                    "WORKER TIMEOUT: worker \(view.pid) has not checked in for \(format(seconds))s (stuck outside a request); sending SIGABRT",
                    metadata: ["worker_pid": "\(view.pid)"])
                abort(view.pid, at: now)
            case .killAfterAbort:
                logger.error("worker \(view.pid) still alive after SIGABRT; sending SIGKILL")
                workers[view.pid]?.sent = .kill
                workers[view.pid]?.abortSentAt = nil
                _ = kill(view.pid, SIGKILL)
            case .killBootTimeout(let seconds):
                logger.error(
                    "worker \(view.pid) did not boot within \(format(seconds))s (boot_timeout); sending SIGKILL")
                workers[view.pid]?.sent = .kill
                _ = kill(view.pid, SIGKILL)
            case .killGracefulTimeout(let seconds):
                logger.warning(
                    "worker \(view.pid) still draining after \(format(seconds))s (graceful_timeout); sending SIGKILL")
                workers[view.pid]?.sent = .kill
                _ = kill(view.pid, SIGKILL)
            }
        }
    }

    private func abort(_ pid: Int32, at now: Int64) {
        workers[pid]?.sent = .abort
        workers[pid]?.abortSentAt = now
        _ = kill(pid, SIGABRT)
    }

    private func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: - Stopping

    private func send(_ signal: Int32, to pid: Int32) {
        if var record = workers[pid] {
            switch signal {
            case SIGTERM: record.sent = .term
            case SIGQUIT: record.sent = .quit
            case SIGKILL: record.sent = .kill
            default: break
            }
            if signal == SIGTERM, record.phase != .booting, !isDraining(record) {
                record.phase = .draining(since: Clock.monotonic())
            }
            workers[pid] = record
        }
        _ = kill(pid, signal)
    }

    private func killAll(reason: String) {
        for pid in workers.keys {
            logger.warning("worker \(pid) did not stop in time (\(reason)); sending SIGKILL")
            send(SIGKILL, to: pid)
        }
        state = .stopping(graceful: false, deadline: Int64.max)
    }

    private func finishStop() -> Int32 {
        cleanUp()
        logger.info("Shutting down: master")
        return 0
    }

    private func halt(_ code: Int32) -> Int32 {
        for pid in workers.keys { send(SIGKILL, to: pid) }
        while !workers.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 { break }
            workers.removeValue(forKey: pid)
        }
        cleanUp()
        logger.critical("Shutting down: master (exit code \(code))")
        return code
    }

    private func cleanUp() {
        for listener in listeners { listener.close() }
        if let path = runtime.pidFile { unlink(path) }
    }

    // MARK: - Start-up helpers

    private func bindListeners() throws(SystemError) {
        let activated = SocketActivation.sockets()
        if !activated.isEmpty {
            for socket in activated {
                try setNonBlocking(socket.fd)
                listeners.append(Listener(address: .fileDescriptor(socket.fd), fd: socket.fd, inherited: true))
            }
            let names = activated.map(\.name).joined(separator: ", ")
            logger.info(
                "Using \(activated.count) listening socket(s) from systemd (\(names)); the bind setting is ignored")
            return
        }
        for address in runtime.binds {
            do {
                listeners.append(try Listener.bind(address, options: runtime.listenerOptions))
            } catch {
                for listener in listeners { listener.close() }
                listeners = []
                throw error
            }
        }
    }

    private func writePIDFile() throws(SystemError) {
        guard let path = runtime.pidFile else { return }
        let text = "\(masterPID)\n"
        let fd = try syscall("open", context: "pid file \(path) (setting 'pid')") {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        defer { close(fd) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}

/// The conventional name of a signal (`SIGKILL`).
func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
    ]
    return names[signal] ?? "signal \(signal)"
}
