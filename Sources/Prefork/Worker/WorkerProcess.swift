import CPreforkShims
import Logging
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a freshly forked worker does before its loop: reset the master's signal handling,
/// drop privileges, boot the application, open the access log. Any failure here is a boot
/// failure (exit code 3), which makes the master stop instead of respawning in a loop.
enum WorkerProcess {
    static func run(
        runtime: ServerRuntime, resolver: RuntimeResolver, listeners: [Int32], ownListenerCount: Int,
        metrics: (endpoint: MetricsEndpoint, listenerIndex: Int)?, slot: UnsafeMutablePointer<prefork_slot>,
        masterPID: Int32, masterSignalPipe: (read: Int32, write: Int32), logger: Logger, logFiles: LogFiles
    ) -> Int32 {
        let logger = leaveMaster(
            title: "worker", runtime: runtime, resolver: resolver, slot: slot, masterSignalPipe: masterSignalPipe,
            logger: logger)
        let configuration = runtime.configuration
        do {
            try Privileges.drop(user: configuration[.user], group: configuration[.group])
        } catch {
            logger.critical("worker cannot drop privileges: \(error)")
            return WorkerExit.bootFailure
        }
        let handler: Handler
        do {
            handler = try resolver.application.makeHandler(configuration, logger: logger)
        } catch {
            logger.critical("worker failed to boot: \(error)")
            return WorkerExit.bootFailure
        }
        var accessLog: AccessLog?
        if let path = configuration[.accessLogfile], let format = runtime.accessLogFormat {
            if path == "journal" {
                accessLog = AccessLog(format: format, sink: .journal(identifier: resolver.name), pid: getpid())
            } else if let file = logFiles.access {
                accessLog = AccessLog(format: format, sink: .file(file), pid: getpid())
            }
        }
        let worker = Worker(
            options: runtime.workerOptions(masterPID: masterPID, serverName: resolver.name), listeners: listeners,
            ownListenerCount: ownListenerCount, metrics: metrics,
            slot: slot, handler: handler, logger: logger, accessLog: accessLog, logFiles: logFiles)
        let code = worker.run()
        accessLog?.flush()
        return code
    }

    /// What every child does first: the master's signal handlers reset (and SIGABRT, so that a
    /// request or job over its timeout ends the process at once; see
    /// `WorkerSignalRole.defaultAction`; other crash signals keep the Swift backtracer), the
    /// master's pipe closed, its pid in the slot, its process title; returns its logger.
    private static func leaveMaster(
        title: String, runtime: ServerRuntime, resolver: RuntimeResolver, slot: UnsafeMutablePointer<prefork_slot>,
        masterSignalPipe: (read: Int32, write: Int32), logger: Logger
    ) -> Logger {
        SignalTable.resetAfterFork.withUnsafeBufferPointer { prefork_reset_signals($0.baseAddress, Int32($0.count)) }
        close(masterSignalPipe.read)
        close(masterSignalPipe.write)
        slot.pointee.pid = getpid()
        var logger = logger
        logger[metadataKey: "worker_pid"] = "\(getpid())"
        prefork_set_proctitle("\(resolver.name): \(title) [\(runtime.configuration[.procName] ?? resolver.name)]")
        return logger
    }

    /// A job worker's life: the same reset and privileges, then the application's job runner,
    /// the jobs the master saw die with their worker, and the job loop.
    static func runJobs(
        runtime: ServerRuntime, resolver: RuntimeResolver, slot: UnsafeMutablePointer<prefork_slot>,
        masterSignalPipe: (read: Int32, write: Int32), logger: Logger, logFiles: LogFiles, serverID: String,
        orphans: [OrphanedJob]
    ) -> Int32 {
        let logger = leaveMaster(
            title: "job worker", runtime: runtime, resolver: resolver, slot: slot, masterSignalPipe: masterSignalPipe,
            logger: logger)
        let configuration = runtime.configuration
        let runner: any JobRunner
        do {
            try Privileges.drop(user: configuration[.user], group: configuration[.group])
            runner = try resolver.application.makeJobRunner(configuration, logger: logger)
        } catch {
            logger.critical("job worker failed to boot: \(error)")
            return WorkerExit.bootFailure
        }
        let worker = JobWorker(
            runner: runner, slot: slot, logger: logger, logFiles: logFiles, serverID: serverID,
            pollMillis: runtime.jobPollMillis)
        return worker.run(orphans: orphans)
    }
}
