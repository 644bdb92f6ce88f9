import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// Forking workers.
extension Arbiter {
    func spawnWorker(generation: UInt64, kind: WorkerRecord.Kind) {
        guard let slotIndex = scoreboard.claim(generation: generation, kind: kind) else {
            logger.error("cannot start a worker: all \(scoreboard.capacity) scoreboard slots are in use")
            return
        }
        let own = kind == .http ? workerOwnSockets() : []
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
        if pid == 0 && kind == .job {
            for listener in listeners { _ = close(listener.fd) }  // a job worker accepts nothing
            if let metrics = metricsListener { _ = close(metrics.fd) }
            _exit(
                WorkerProcess.runJobs(
                    runtime: runtime, resolver: resolver, slot: scoreboard[slotIndex], masterSignalPipe: signalPipe,
                    logger: logger, logFiles: logFiles, serverID: serverID, orphans: state.orphanedJobs))
        }
        if pid == 0 {
            let metrics = metricsListener.map { _ in
                MetricsEndpoint(
                    shared: scoreboard.shared, listeners: listeners.map { (address: "\($0.address)", fd: $0.fd) })
            }
            let shared = (listeners + (metricsListener.map { [$0] } ?? [])).map(\.fd)
            let code = WorkerProcess.run(
                runtime: runtime, resolver: resolver, listeners: shared + own.map(\.fd),
                ownListenerCount: own.count, metrics: metrics.map { ($0, shared.count - 1) },
                slot: scoreboard[slotIndex], masterPID: masterPID, masterSignalPipe: signalPipe, logger: logger,
                logFiles: logFiles)
            _exit(code)
        }
        scoreboard[slotIndex].pointee.pid = pid
        feed(.spawned(pid: pid, slot: slotIndex, kind: kind))
    }

    /// With `reuse_port`, each worker also gets TCP sockets of its own in the SO_REUSEPORT group,
    /// so the kernel spreads new connections over the workers; the shared socket stays as well,
    /// so no connection waits on a socket nobody accepts from. Connections queued on a worker's
    /// own socket are lost if that worker dies (the known trade-off of SO_REUSEPORT); a worker
    /// that drains accepts what is queued on its own sockets and closes them at once.
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
}
