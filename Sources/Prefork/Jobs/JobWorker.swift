import CPreforkShims
import Logging
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// A job worker: beside the HTTP workers, it claims the application's jobs one at a time and
/// runs each to its end (Gunicorn 25's "dirty arbiters" answer the same need). Its scoreboard
/// slot shows the job it runs, so the master can time it out with `job_timeout`, name it in
/// the log and hand it to the next job worker if this one dies. TERM (a stop or a reload)
/// lets the running job finish first; QUIT and INT end the worker between jobs.
final class JobWorker {
    let runner: any JobRunner
    let slot: UnsafeMutablePointer<prefork_slot>
    let logger: Logger
    let logFiles: LogFiles
    let serverID: String
    /// How long an idle job worker waits before it looks for a job again.
    let pollMillis: Int32
    var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    var stopping = false
    var lastClaimError: Int64 = -1

    init(
        runner: any JobRunner, slot: UnsafeMutablePointer<prefork_slot>, logger: Logger, logFiles: LogFiles,
        serverID: String, pollMillis: Int32
    ) {
        self.runner = runner
        self.slot = slot
        self.logger = logger
        self.logFiles = logFiles
        self.serverID = serverID
        self.pollMillis = pollMillis
    }

    /// Recovers the orphans, then claims and runs jobs until told to stop; returns the exit code.
    func run(orphans: [OrphanedJob]) -> Int32 {
        var fds: [Int32] = [0, 0]
        guard prefork_pipe(&fds) == 0 else {
            logger.critical("job worker cannot open its signal pipe: \(SystemError("pipe2"))")
            return WorkerExit.bootFailure
        }
        signalPipe = (fds[0], fds[1])
        _ = SignalTable.workerHandled.withUnsafeBufferPointer {
            prefork_install_signal_pipe(signalPipe.write, $0.baseAddress, Int32($0.count))
        }
        for signal in SignalTable.workerIgnored { _ = prefork_ignore_signal(signal) }
        do {
            try runner.recover(orphans, serverID: serverID)
        } catch {
            logger.critical("job worker cannot recover the jobs of a job worker that died: \(error)")
            return WorkerExit.bootFailure
        }
        prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_IDLE))
        while true {
            beat()
            if let code = handleSignals() { return code }
            if stopping { return WorkerExit.success }
            if let job = claim() {
                runJob(job)
                continue
            }
            var pollfd = Glibc.pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)
            _ = poll(&pollfd, 1, pollMillis)
        }
    }

    private func beat() { prefork_slot_store_heartbeat(slot, Clock.coarse()) }

    /// The next job, or nil; a database that cannot be read is logged at most once a minute.
    private func claim() -> ClaimedJob? {
        do {
            return try runner.claim(serverID: serverID)
        } catch {
            let now = Clock.coarse()
            if lastClaimError < 0 || now - lastClaimError > 60_000_000_000 {
                logger.error("job worker cannot look for jobs: \(error); trying again")
                lastClaimError = now
            }
            return nil
        }
    }

    /// Runs one job with the slot showing it: method `JOB`, path its kind, request id its id.
    private func runJob(_ job: ClaimedJob) {
        let method = Array("JOB".utf8)
        let kind = Array(job.kind.utf8.prefix(Int(PREFORK_SLOT_PATH_MAX) - 1))
        let id = Array(String(job.id).utf8)
        prefork_slot_begin_request(slot, Clock.monotonic(), method, method.count, kind, kind.count, id, id.count)
        logger.info("job \(job.id) (\(job.kind)) started", metadata: ["job_id": "\(job.id)"])
        let started = Clock.monotonic()
        runner.run(job, progress: JobProgress(beat: { [slot] in prefork_slot_store_heartbeat(slot, Clock.coarse()) }))
        let tenths = (Clock.monotonic() - started) / 100_000_000
        logger.info(
            "job \(job.id) (\(job.kind)) ended after \(tenths / 10).\(tenths % 10)s", metadata: ["job_id": "\(job.id)"])
        prefork_slot_end_request(slot)
    }

    /// TERM: stop after the running job; QUIT, INT: stop now; USR1: reopen the logs.
    private func handleSignals() -> Int32? {
        for entry in SignalTable.queued(in: signalPipe.read) {
            switch entry.worker {
            case .drain:
                stopping = true
                prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_DRAINING))
            case .exitNow: return WorkerExit.success
            case .reopenLogs: logFiles.reopen()
            case .ignored, .notHandled, .defaultAction: break
            }
        }
        return nil
    }
}
