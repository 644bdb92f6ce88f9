import CPreforkShims
import HTTPTypes
import Logging
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// A worker process: one epoll loop serving many connections. Handlers run one at a time
/// (synchronous, like Gunicorn's sync worker); I/O for every connection is non-blocking, so a
/// slow client never holds the worker, and every accepted connection is served.
///
/// The worker is a thin driver: it waits on epoll, moves bytes, and feeds each connection's
/// `ConnectionStateMachine`, performing the actions it returns; accept back-pressure is an
/// `AcceptGate`. Decisions live in those two pure types (PreforkCore), not here.
final class Worker {
    static let readBufferSize = 4096
    static let eventBatch = 256

    let options: WorkerOptions
    /// The listening sockets: the shared ones, then (with `reuse_port`) this worker's own, the
    /// last `ownListenerCount`. A closed one is -1.
    var listeners: [Int32]
    let ownListenerCount: Int
    /// What the `metrics_bind` listener (at `listenerIndex` in `listeners`) answers.
    let metrics: (endpoint: MetricsEndpoint, listenerIndex: Int)?
    let slot: UnsafeMutablePointer<prefork_slot>
    let handler: Handler
    let logger: Logger
    let accessLog: AccessLog?
    /// The log files this process writes, reopened on USR1.
    let logFiles: LogFiles
    let connectionConfiguration: ConnectionConfiguration

    var epoll: Int32 = -1
    var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    /// Open connections, indexed by descriptor.
    var connections: [Connection?] = []
    var connectionCount = 0
    var nextSerial: UInt32 = 1
    var acceptGate: AcceptGate
    var writer: ResponseWriter
    /// Responses of one batch, written with one write; reused for every batch.
    var output: [UInt8] = []
    var requestCounter: UInt64
    var requestsServed = 0
    /// `requestsServed` when the worker last gave its free heap back (see `releaseIdleHeap`).
    var requestsServedAtHeapRelease = -1
    /// Told to drain (the accept gate, which never opens again, keeps the fact).
    var draining: Bool { acceptGate.isDraining }
    var drainDeadline: Int64 = 0
    var nextSweep: Int64 = 0
    /// When the worker next measures its memory (with `max_worker_memory` set).
    var nextMemoryCheck: Int64 = 0
    var now: Int64 = 0

    init(
        options: WorkerOptions, listeners: [Int32], ownListenerCount: Int = 0,
        metrics: (endpoint: MetricsEndpoint, listenerIndex: Int)? = nil, slot: UnsafeMutablePointer<prefork_slot>,
        handler: @escaping Handler,
        logger: Logger, accessLog: AccessLog?, logFiles: LogFiles
    ) {
        self.options = options
        self.listeners = listeners
        self.ownListenerCount = ownListenerCount
        self.metrics = metrics
        self.slot = slot
        self.handler = handler
        self.logger = logger
        self.accessLog = accessLog
        self.logFiles = logFiles
        self.connectionConfiguration = ConnectionConfiguration(
            limits: options.limits, keepaliveNanos: options.keepaliveNanos,
            headerTimeoutNanos: options.headerTimeoutNanos)
        self.acceptGate = AcceptGate(maxConnections: options.maxConnections)
        self.writer = ResponseWriter(serverName: options.serverName)
        self.requestCounter = prefork_random64() & 0xFFFF_FFFF_0000_0000
        output.reserveCapacity(16 * 1024)
    }

    /// Runs the loop until the worker has drained or is told to quit; returns the exit code.
    func run() -> Int32 {
        do {
            try setUp()
        } catch {
            logger.error("worker could not start its event loop: \(error)")
            return WorkerExit.bootFailure
        }
        prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_IDLE))
        var tokens = [UInt64](repeating: 0, count: Worker.eventBatch)
        var events = [UInt32](repeating: 0, count: Worker.eventBatch)
        while true {
            let timeout = draining || connectionCount > 0 ? min(250, options.heartbeatMillis) : options.heartbeatMillis
            let count = tokens.withUnsafeMutableBufferPointer { t in
                events.withUnsafeMutableBufferPointer { e in
                    prefork_epoll_wait(epoll, t.baseAddress, e.baseAddress, Int32(Worker.eventBatch), Int32(timeout))
                }
            }
            now = Clock.coarse()
            prefork_slot_store_heartbeat(slot, now)
            if count < 0 && errno != EINTR {
                logger.critical("epoll_wait failed: \(SystemError("epoll_wait"))")
                return WorkerExit.failure
            }
            for index in 0..<max(0, Int(count)) {
                switch EventToken(rawValue: tokens[index]) {
                case .signalPipe:
                    if let code = handleSignals() { return code }
                case .listener(let listener) where listener < listeners.count && listeners[listener] >= 0:
                    acceptConnections(listeners[listener], servesMetrics: listener == metrics?.listenerIndex)
                case .connection(let fd, _):
                    handleEvent(fd: fd, token: tokens[index], events: events[index])
                case .listener, nil:
                    break
                }
            }
            accessLog?.flush()
            if now >= nextSweep { sweep() }
            if draining && connectionCount == 0 { return WorkerExit.success }
            if draining && now >= drainDeadline {
                logger.warning(
                    "graceful timeout reached with \(connectionCount) connection(s) still open; closing them")
                return WorkerExit.success
            }
        }
    }

    // MARK: - Set-up

    private func setUp() throws(SystemError) {
        epoll = try syscall("epoll_create1") { prefork_epoll_create() }
        var fds: [Int32] = [0, 0]
        try syscall("pipe2") { prefork_pipe(&fds) }
        signalPipe = (fds[0], fds[1])
        _ = SignalTable.workerHandled.withUnsafeBufferPointer {
            prefork_install_signal_pipe(signalPipe.write, $0.baseAddress, Int32($0.count))
        }
        for signal in SignalTable.workerIgnored { _ = prefork_ignore_signal(signal) }
        try syscall("epoll_ctl") {
            prefork_epoll_ctl(
                epoll, PREFORK_EPOLL_CTL_ADD, signalPipe.read, PREFORK_EPOLLIN, EventToken.signalPipe.rawValue)
        }
        try watchListeners(true)
    }

    // MARK: - Signals

    /// Handles queued signals; returns an exit code when the worker must stop now.
    private func handleSignals() -> Int32? {
        for entry in SignalTable.queued(in: signalPipe.read) {
            switch entry.worker {
            case .drain:
                beginDrain(reason: entry.fullName)
            case .exitNow:
                return WorkerExit.success
            case .reopenLogs:
                accessLog?.flush()
                logFiles.reopen()
            case .ignored, .notHandled, .defaultAction:
                break
            }
        }
        return nil
    }

    /// Stops accepting and lets every connection finish: each gets its next response with
    /// `Connection: close`; idle keep-alive connections are closed after a short grace.
    func beginDrain(reason: String) {
        guard !draining else { return }
        apply(acceptGate.beginDrain())
        drainDeadline = Clock.coarse() + options.gracefulTimeoutNanos
        prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_DRAINING))
        for case let connection? in connections { connection.machine.beginDrain() }
        closeOwnListeners()
        logger.debug("worker draining (\(reason)): \(connectionCount) connection(s) open")
    }
}

/// Worker exit codes: a protocol with the master.
public enum WorkerExit {
    /// Drained or told to stop.
    public static let success: Int32 = 0
    /// Something failed at run time; the master replaces the worker.
    public static let failure: Int32 = 1
    /// The worker could not boot (application or set-up failed): the master halts instead of
    /// respawning in a loop, as Gunicorn does (same code, 3).
    public static let bootFailure: Int32 = 3
}
