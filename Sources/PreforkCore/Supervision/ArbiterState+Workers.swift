#if canImport(Glibc)
    import Glibc
#endif

/// The loop's turn (halt, stop, readiness, stale workers, worker count) and worker exits.
extension ArbiterState {
    /// One turn of the master's loop, after signals were handled and dead workers reaped.
    mutating func tick(_ readings: [Int32: SlotReading], now: Int64) {
        for (pid, reading) in readings { workers[pid]?.reading = reading }
        if let code = haltCode {
            for pid in workers.keys.sorted() { send(SIGKILL, to: pid, reason: .halt, now: now) }
            actions.append(.halt(code: code))
            return
        }
        if case .stopping(let graceful, let deadline) = mode {
            if workers.isEmpty {
                actions.append(.finishStop)
            } else if now >= deadline {
                killAll(reason: graceful ? "graceful_timeout" : "quit", now: now)
            }
            return
        }
        promoteReadyWorkers()
        murderStaleWorkers(now: now)
        if upgrade == .rollingBack {
            rollBackWhenClear()
            return
        }
        manageWorkers(now: now)
    }

    /// A booting worker is ready once its slot says it serves.
    mutating func promoteReadyWorkers() {
        for record in workers.values.sorted(by: { $0.pid < $1.pid })
        where record.phase == .booting && record.reading.serving {
            workers[record.pid]?.phase = .ready
            log(.debug, "worker \(record.pid) is ready")
        }
    }

    /// Forks or drains workers (HTTP and job workers, each kind to its own count) per the
    /// policy; completes a reload once its generation serves.
    mutating func manageWorkers(now: Int64) {
        let records = workers.values.sorted { $0.pid < $1.pid }
        var spawns: [WorkerRecord.Kind] = []
        for (kind, target) in [(WorkerRecord.Kind.http, targetWorkers), (.job, configuration.jobWorkers)] {
            let plan = SupervisionPolicy.plan(
                workers: records.filter { $0.kind == kind }, target: target, generation: generation)
            for (pid, reason) in plan.drain {
                let why: String
                switch reason {
                case .replacedByNewGeneration: why = "replaced by generation \(generation)"
                case .retired:
                    if case .memory(let kib)? = workers[pid]?.reading.retireReason {
                        why = "its memory (\(kib / 1024) MiB) is over max_worker_memory, replacement is serving"
                    } else {
                        why = "reached max_requests, replacement is serving"
                    }
                case .surplus: why = "fewer workers wanted"
                }
                let busy = kind == .job && workers[pid]?.busySince != nil ? " (after its job)" : ""
                log(.info, "Stopping \(workers[pid]?.title ?? "worker \(pid)") gracefully\(busy): \(why)")
                workers[pid]?.phase = .draining(since: now)
                send(SIGTERM, to: pid, reason: .drain(reason), now: now)
            }
            spawns += Array(repeating: kind, count: plan.spawn)
        }
        if pendingReload != nil && !workers.values.contains(where: { $0.generation != generation && !$0.isDraining }) {
            pendingReload = nil
            log(.info, "\(upgrade == .adopted ? "Upgrade" : "Reload") complete: generation \(generation) is serving")
            if upgrade == .adopted { upgrade = nil }
            actions.append(.notify(.ready(status: nil)))
        }
        for kind in spawns { actions.append(.spawn(generation: generation, kind: kind)) }
    }

    /// Applies the request, boot and graceful timeouts; the log line names the request a stuck
    /// worker was serving. A worker already sent SIGKILL is left to die.
    mutating func murderStaleWorkers(now: Int64) {
        let timeouts = configuration.timeouts
        for record in workers.values.sorted(by: { $0.pid < $1.pid }) where record.sent != .kill {
            let pid = record.pid
            switch SupervisionPolicy.staleAction(for: record, now: now, timeouts: timeouts) {
            case .none:
                continue
            case .abortForRequestTimeout(let seconds) where record.kind == .job:
                let job = record.reading.request ?? InFlightRequest(start: 0)
                log(
                    .error,
                    "JOB TIMEOUT: job worker \(pid) spent \(format(seconds))s on job \(job.requestID) (\(job.path)), "
                        + "over the \(format(Double(timeouts.job) / 1e9))s job_timeout; sending SIGABRT",
                    metadata: ["worker_pid": "\(pid)", "job_id": job.requestID])
                send(SIGABRT, to: pid, reason: .requestTimeout, now: now)
            case .abortForRequestTimeout(let seconds):
                let request = record.reading.request ?? InFlightRequest(start: 0)
                let (method, path, rid) = (request.method, request.path, request.requestID)
                log(
                    .error,
                    "WORKER TIMEOUT: worker \(pid) spent \(format(seconds))s on \(method) \(path) (request_id=\(rid)), "
                        + "over the \(format(Double(timeouts.request) / 1e9))s timeout; sending SIGABRT",
                    metadata: ["worker_pid": "\(pid)", "request_id": rid, "http_method": method, "http_path": path])
                send(SIGABRT, to: pid, reason: .requestTimeout, now: now)
            case .abortForMissedHeartbeat(let seconds):
                log(
                    .error,
                    "WORKER TIMEOUT: \(record.title) has not checked in for \(format(seconds))s (stuck outside a request); "
                        + "sending SIGABRT", metadata: ["worker_pid": "\(pid)"])
                send(SIGABRT, to: pid, reason: .missedHeartbeat, now: now)
            case .killAfterAbort:
                log(.error, "\(record.title) still alive after SIGABRT; sending SIGKILL")
                send(SIGKILL, to: pid, reason: .stillAliveAfterAbort, now: now)
            case .killBootTimeout(let seconds):
                log(.error, "\(record.title) did not boot within \(format(seconds))s (boot_timeout); sending SIGKILL")
                send(SIGKILL, to: pid, reason: .bootTimeout, now: now)
            case .killGracefulTimeout(let seconds):
                log(
                    .warning,
                    "\(record.title) still draining after \(format(seconds))s (graceful_timeout); sending SIGKILL")
                send(SIGKILL, to: pid, reason: .gracefulTimeout, now: now)
            }
        }
    }

    /// The stop's deadline passed: every worker still alive gets SIGKILL.
    mutating func killAll(reason: String, now: Int64) {
        for pid in workers.keys.sorted() {
            let running = workers[pid]?.reading.request.map { " (running job \($0.requestID))" } ?? ""
            let title = workers[pid]?.title ?? "worker \(pid)"
            log(
                .warning,
                "\(title)\(workers[pid]?.kind == .job ? running : "") did not stop in time (\(reason)); sending SIGKILL"
            )
            send(SIGKILL, to: pid, reason: .stopTimeout, now: now)
        }
        mode = .stopping(graceful: false, deadline: Int64.max)
    }

    /// Judges a reaped worker's exit: log it, abandon a reload that cannot boot, or halt.
    mutating func workerExited(_ pid: Int32, _ termination: SupervisionPolicy.Termination, now: Int64) {
        guard let record = workers.removeValue(forKey: pid) else { return }
        var verdict = SupervisionPolicy.judgeExit(
            pid: pid, termination: termination, sent: record.sent, wasReady: record.phase != .booting,
            bootFailureCode: bootFailureCode)
        if verdict.haltCode != nil, let pending = pendingReload, record.generation == generation {
            abandonReload(pending, failedPID: pid, now: now)
            return
        }
        if abandonedGenerations.contains(record.generation) {
            // A worker of a reload already abandoned: its failure was reported once.
            log(.info, "worker \(pid) of the abandoned reload exited")
            return
        }
        if record.kind == .job {
            verdict.message = "job " + verdict.message
            if let job = record.reading.request {
                let why =
                    record.abortSentAt != nil || record.sent == .abort
                    ? "it ran past job_timeout (\(format(Double(configuration.timeouts.job) / 1e9))s); \(record.title) was killed"
                    : verdict.message
                orphanedJobs.append(OrphanedJob(id: job.requestID, kind: job.path, reason: why))
                verdict.message += " while running job \(job.requestID) (\(job.path))"
            }
        }
        if verdict.haltCode == nil && verdict.level != .info && mode == .running {
            verdict.message += "; replacing it"
        }
        log(verdict.level, verdict.message)
        if let code = verdict.haltCode, mode == .running { haltCode = code }
    }

    /// Seconds with one decimal, as in "spent 31.0s".
    func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
