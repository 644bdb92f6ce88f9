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
final class Worker {
    static let readBufferSize = 4096

    let options: WorkerOptions
    let listeners: [Int32]
    let slot: UnsafeMutablePointer<prefork_slot>
    let handler: Handler
    let logger: Logger
    let accessLog: AccessLog?
    let logFiles: LogFiles

    private var epoll: Int32 = -1
    private var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    private var connections: [Connection?] = []
    private var connectionCount = 0
    private var nextSerial: UInt32 = 1
    private var writer: ResponseWriter
    private var output: [UInt8] = []
    private var requestCounter: UInt64
    private var requestsServed = 0
    private var draining = false
    private var drainDeadline: Int64 = 0
    private var acceptingPaused = false
    private var nextSweep: Int64 = 0
    private var now: Int64 = 0

    static let listenerTokenBase: UInt64 = 1 << 62
    static let signalToken: UInt64 = 1 << 61

    init(
        options: WorkerOptions, listeners: [Int32], slot: UnsafeMutablePointer<prefork_slot>,
        handler: @escaping Handler,
        logger: Logger, accessLog: AccessLog?, logFiles: LogFiles
    ) {
        self.options = options
        self.listeners = listeners
        self.slot = slot
        self.handler = handler
        self.logger = logger
        self.accessLog = accessLog
        self.logFiles = logFiles
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
        var tokens = [UInt64](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while true {
            let timeout = draining || connectionCount > 0 ? min(250, options.heartbeatMillis) : options.heartbeatMillis
            let count = tokens.withUnsafeMutableBufferPointer { t in
                events.withUnsafeMutableBufferPointer { e in
                    prefork_epoll_wait(epoll, t.baseAddress, e.baseAddress, 256, Int32(timeout))
                }
            }
            now = Clock.coarse()
            prefork_slot_store_heartbeat(slot, now)
            if count < 0 && errno != EINTR {
                logger.critical("epoll_wait failed: \(SystemError("epoll_wait"))")
                return WorkerExit.failure
            }
            for index in 0..<max(0, Int(count)) {
                let token = tokens[index]
                if token == Worker.signalToken {
                    if let code = handleSignals() { return code }
                } else if token >= Worker.listenerTokenBase {
                    acceptConnections(listeners[Int(token - Worker.listenerTokenBase)])
                } else {
                    handleEvent(token: token, events: events[index])
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
            prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_ADD, signalPipe.read, PREFORK_EPOLLIN, Worker.signalToken)
        }
        try watchListeners(true)
    }

    /// Adds or removes the listening sockets. EPOLLEXCLUSIVE wakes one worker per connection.
    private func watchListeners(_ on: Bool) throws(SystemError) {
        for (index, fd) in listeners.enumerated() {
            let token = Worker.listenerTokenBase + UInt64(index)
            if on {
                let events = PREFORK_EPOLLIN | PREFORK_EPOLLEXCLUSIVE
                try syscall("epoll_ctl") { prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_ADD, fd, events, token) }
            } else {
                _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_DEL, fd, 0, token)
            }
        }
    }

    // MARK: - Signals

    /// Handles queued signals; returns an exit code when the worker must stop now.
    private func handleSignals() -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 64)
        let n = read(signalPipe.read, &bytes, 64)
        guard n > 0 else { return nil }
        for signal in bytes[0..<n] {
            switch Int32(signal) {
            case SIGTERM:
                beginDrain(reason: "SIGTERM")
            case SIGINT, SIGQUIT:
                return WorkerExit.success
            case SIGUSR1:
                accessLog?.flush()
                logFiles.reopen()
            default:
                break
            }
        }
        return nil
    }

    /// Stops accepting and lets every connection finish: each gets its next response with
    /// `Connection: close`; idle keep-alive connections are closed after a short grace.
    private func beginDrain(reason: String) {
        guard !draining else { return }
        draining = true
        drainDeadline = Clock.coarse() + options.gracefulTimeoutNanos
        prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_DRAINING))
        try? watchListeners(false)
        logger.debug("worker draining (\(reason)): \(connectionCount) connection(s) open")
    }

    // MARK: - Accepting

    private func acceptConnections(_ listener: Int32) {
        // Take at most a few per wake-up, so connections spread over the workers.
        for _ in 0..<16 {
            if connectionCount >= options.maxConnections {
                pauseAccepting()
                return
            }
            var address = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let fd = prefork_accept(listener, &address, &length)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {
                    logger.error("cannot accept: too many open files (raise LimitNOFILE or lower max_connections)")
                    pauseAccepting()
                }
                return
            }
            register(fd: fd, address: address)
        }
    }

    private func pauseAccepting() {
        guard !acceptingPaused else { return }
        acceptingPaused = true
        try? watchListeners(false)
    }

    private func resumeAcceptingIfPossible() {
        guard acceptingPaused, !draining, connectionCount < options.maxConnections * 9 / 10 + 1 else { return }
        acceptingPaused = false
        try? watchListeners(true)
    }

    private func register(fd: Int32, address: sockaddr_storage) {
        if address.ss_family == sa_family_t(AF_INET) || address.ss_family == sa_family_t(AF_INET6) {
            _ = prefork_setsockopt_int(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        }
        let text = Worker.addressText(address)
        let peer = Peer(address: text, trusted: options.proxyTrust.trusts(text), trustedNetworks: options.proxyTrust)
        let connection = Connection(fd: fd, serial: nextSerial, peer: peer, now: now, bufferSize: Worker.readBufferSize)
        nextSerial &+= 1
        if nextSerial == 0 { nextSerial = 1 }
        let events = PREFORK_EPOLLIN | PREFORK_EPOLLRDHUP
        guard prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_ADD, fd, events, connection.token) == 0 else {
            _ = close(fd)
            return
        }
        let index = Int(fd)
        if index >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: index + 64 - connections.count))
        }
        connections[index] = connection
        connectionCount += 1
        slot.pointee.connections = UInt32(connectionCount)
    }

    /// The numeric address of a TCP peer, or "unix" for a unix-socket peer.
    static func addressText(_ storage: sockaddr_storage) -> String {
        let family = Int32(storage.ss_family)
        guard family == AF_INET || family == AF_INET6 else { return "unix" }
        var storage = storage
        var host = [CChar](repeating: 0, count: 64)
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard status == 0 else { return "-" }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Connection events

    private func handleEvent(token: UInt64, events: UInt32) {
        let index = Int(token & 0xFFFF_FFFF)
        guard index < connections.count, let connection = connections[index], connection.token == token else { return }
        connection.lastActivity = now
        if events & PREFORK_EPOLLOUT != 0 {
            guard connection.flushPending() else { return closeConnection(connection) }
            if connection.hasPendingOutput { return }
            if connection.closeAfterFlush { return finish(connection) }
            setWritable(connection, false)
        }
        let readable: UInt32 = PREFORK_EPOLLIN | PREFORK_EPOLLHUP | PREFORK_EPOLLERR | PREFORK_EPOLLRDHUP
        if events & readable != 0 {
            readAndServe(connection)
        }
    }

    private func readAndServe(_ connection: Connection) {
        if case .lingering = connection.phase {
            return discardInput(connection)
        }
        guard !connection.hasPendingOutput else { return }
        let headLimit = headBufferLimit
        let n = connection.readAvailable(limit: headLimit)
        if n == 0 || n == -2 { return closeConnection(connection) }
        if n == -1 { return }
        serveBuffered(connection)
    }

    /// Whether bytes that arrived since an incomplete head was last parsed can change the
    /// parser's answer: they end a line, or the current line is now longer than any line may be.
    /// Otherwise the answer is the same "not yet" (the parser decides errors in byte order, so
    /// deferring to the line's end gives the same error), and parsing again is skipped.
    private func headNeedsParsing(_ connection: Connection) -> Bool {
        let unread = connection.unread
        let seen = connection.headParsedCount
        guard unread.count > seen else { return false }
        for index in seen..<unread.count where unread[index] == 10 { return true }  // LF
        return unread.count - connection.headLineStart > longestLine
    }

    /// Records how far an incomplete head was parsed, and where its last line starts.
    private func noteIncompleteHead(_ connection: Connection) {
        let unread = connection.unread
        var index = unread.count
        while index > connection.headParsedCount {
            index -= 1
            if unread[index] == 10 {
                connection.headLineStart = index + 1
                break
            }
        }
        connection.headParsedCount = unread.count
    }

    /// The longest line (with its CRLF) the limits allow; a longer one is an error to report.
    private var longestLine: Int {
        let line = options.limits.requestLine == 0 ? Int.max - 2 : options.limits.requestLine
        let field = options.limits.fieldSize == 0 ? Int.max - 2 : options.limits.fieldSize
        return max(line, field) + 2
    }

    /// The largest a request head may be, from the limits (request line and fields).
    private var headBufferLimit: Int {
        let line = options.limits.requestLine == 0 ? 8192 : options.limits.requestLine + 2
        let fields = options.limits.fieldCount == 0 ? 32_768 : options.limits.fieldCount
        let size = options.limits.fieldSize == 0 ? 8192 : options.limits.fieldSize + 2
        return min(line + fields * size + 2, 1 << 20)
    }

    /// Serves every complete request in the buffer (pipelining), answering in order, then
    /// writes all their responses at once. A response with a file body ends the batch: the
    /// requests behind it are served once the file has gone out.
    private func serveBuffered(_ connection: Connection) {
        var keepGoing = true
        repeat {
            output.removeAll(keepingCapacity: true)
            while keepGoing && !connection.closeAfterFlush && !connection.hasQueuedFile {
                keepGoing = step(connection)
            }
            if !output.isEmpty {
                let ok = output.withUnsafeBytes { connection.send($0) }
                guard ok else { return closeConnection(connection) }
            }
        } while keepGoing && !connection.closeAfterFlush && !connection.hasPendingOutput
            && connection.start < connection.end
        if connection.hasPendingOutput {
            setWritable(connection, true)
        } else if connection.closeAfterFlush {
            finish(connection)
        }
    }

    /// Advances the connection by one piece of work; returns true if more may be done now.
    private func step(_ connection: Connection) -> Bool {
        switch connection.phase {
        case .head(let since):
            if connection.start == connection.end { return false }
            let parsed: HTTPRequestHead?
            if connection.headParsedCount > 0 && !headNeedsParsing(connection) {
                parsed = nil
            } else {
                do {
                    parsed = try HTTPRequestHeadParser.parse(connection.unread, limits: options.limits)
                } catch {
                    reject(connection, error)
                    return false
                }
            }
            guard let head = parsed else {
                if since == nil { connection.phase = .head(since: now) }
                noteIncompleteHead(connection)
                if connection.end - connection.start >= headBufferLimit {
                    reject(connection, HTTPParseError(.headTooLarge))
                }
                return false
            }
            connection.headParsedCount = 0
            connection.headLineStart = 0
            let headBytes = Array(UnsafeRawBufferPointer(rebasing: connection.unread[0..<head.length]))
            connection.consume(head.length)
            var request = Connection.RequestInProgress(head: headBytes, parsed: head, body: [])
            switch head.framing {
            case .none:
                dispatch(connection, request)
                return true
            case .contentLength(let length):
                if length == 0 {
                    dispatch(connection, request)
                    return true
                }
                if head.expectContinue && connection.start == connection.end { sendContinue(connection) }
                request.body.reserveCapacity(length)
                connection.phase = .body(request, remaining: length)
                return true
            case .chunked:
                if head.expectContinue && connection.start == connection.end { sendContinue(connection) }
                connection.phase = .chunked(request, ChunkedDecoder(limit: options.limits.body))
                return true
            }
        case .body(var request, let remaining):
            let available = connection.end - connection.start
            if available == 0 { return false }
            let take = min(available, remaining)
            request.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: connection.unread[0..<take]))
            connection.consume(take)
            if take == remaining {
                connection.phase = .head(since: nil)
                dispatch(connection, request)
                return true
            }
            connection.phase = .body(request, remaining: remaining - take)
            return false
        case .chunked(var request, var decoder):
            if connection.start == connection.end { return false }
            connection.phase = .head(since: nil)  // drop the copy held by the enum while decoding
            do {
                let used = try decoder.decode(connection.unread, into: &request.body)
                connection.consume(used)
            } catch {
                reject(connection, error)
                return false
            }
            if decoder.isComplete {
                dispatch(connection, request)
                return true
            }
            connection.phase = .chunked(request, decoder)
            return false
        case .lingering:
            return false
        }
    }

    private func sendContinue(_ connection: Connection) {
        ResponseWriter.continueLine.withUnsafeBytes { _ = connection.send($0) }
    }

    /// Answers a request the parser refused, and closes the connection after the answer.
    private func reject(_ connection: Connection, _ error: HTTPParseError) {
        let status = HTTPResponse.Status(code: error.status)
        logger.info(
            "rejected request from \(connection.peer.address): \(error.status) \(error.reason)",
            metadata: ["remote_addr": "\(connection.peer.address)", "http_status": "\(error.status)"])
        requestCounter &+= 1
        let response = Response.error(status)
        writer.write(
            response, requestID: .generated(requestCounter), persistence: .close, headOnly: false, into: &output)
        connection.closeAfterFlush = true
        connection.phase = .head(since: nil)
    }

    // MARK: - Running the application

    private func dispatch(_ connection: Connection, _ progress: Connection.RequestInProgress) {
        connection.phase = .head(since: nil)
        let parsed = progress.parsed
        let startNanos = Clock.monotonic()
        requestCounter &+= 1
        let identifier = requestIdentifier(progress, connection)
        let request = Request(
            head: progress.head, parsed: parsed, body: progress.body, peer: connection.peer, id: identifier)
        progress.head.withUnsafeBytes { bytes in
            let method = UnsafeRawBufferPointer(rebasing: bytes[parsed.method])
            let path = UnsafeRawBufferPointer(rebasing: bytes[parsed.path])
            withRequestIDBytes(identifier, progress.head) { rid in
                prefork_slot_begin_request(
                    slot, startNanos, method.baseAddress?.assumingMemoryBound(to: UInt8.self), method.count,
                    path.baseAddress?.assumingMemoryBound(to: UInt8.self), path.count,
                    rid.baseAddress?.assumingMemoryBound(to: UInt8.self), rid.count)
            }
        }
        var response: Response
        do {
            response = try handler(request)
        } catch {
            logger.error(
                "handler failed: \(error)",
                metadata: [
                    "request_id": "\(request.requestID)", "http_method": "\(request.method.rawValue)",
                    "http_path": "\(request.path)",
                ])
            response = Response.error(.internalServerError)
        }
        prefork_slot_end_request(slot)
        requestsServed += 1
        connection.requestsServed += 1

        let persistence: ResponseWriter.Persistence
        if draining || !parsed.keepAlive || options.keepaliveNanos == 0 {
            persistence = .close
        } else {
            persistence = parsed.versionMinor == 0 ? .keepAliveHTTP10 : .keepAlive
        }
        let ridBytes: RequestIDBytes
        switch identifier {
        case .generated(let value): ridBytes = .generated(value)
        case .header(let range): ridBytes = .text(progress.head[range])
        }
        let bodyBytes = writer.write(
            response, requestID: ridBytes, persistence: persistence, headOnly: parsed.methodCode == .head,
            into: &output)
        if persistence == .close { connection.closeAfterFlush = true }
        if bodyBytes > 0, case .file(let region) = response.body { connection.queueFile(region) }
        if let accessLog {
            accessLog.record(
                request: request, response: response, bodyBytes: bodyBytes,
                durationNanos: Clock.monotonic() - startNanos,
                startRealtime: Clock.realtime() - (Clock.monotonic() - startNanos))
        }
        if options.maxRequests > 0 && requestsServed >= options.maxRequests && slot.pointee.retire_requested == 0 {
            slot.pointee.retire_requested = 1
            logger.info("worker reached max_requests (\(requestsServed)); asking to be replaced")
        }
    }

    private func requestIdentifier(_ progress: Connection.RequestInProgress, _ connection: Connection)
        -> RequestIdentifier
    {
        if connection.peer.trusted {
            let found = progress.head.withUnsafeBytes { bytes in
                progress.parsed.firstValue(of: "x-request-id", in: bytes)
            }
            if let range = found, range.count > 0, range.count <= 128, isSafeRequestID(progress.head[range]) {
                return .header(range)
            }
        }
        return .generated(requestCounter)
    }

    /// A forwarded request id is echoed in a header and logs: visible ASCII only.
    private func isSafeRequestID(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    private func withRequestIDBytes(_ id: RequestIdentifier, _ head: [UInt8], _ body: (UnsafeRawBufferPointer) -> Void)
    {
        switch id {
        case .generated(let value):
            var bytes = (UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &bytes) { raw in
                RequestIdentifier.write(value, into: raw)
                body(UnsafeRawBufferPointer(raw))
            }
        case .header(let range):
            head.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }

    // MARK: - Closing

    private func setWritable(_ connection: Connection, _ on: Bool) {
        guard connection.waitingForWritable != on else { return }
        connection.waitingForWritable = on
        let events = on ? PREFORK_EPOLLOUT : PREFORK_EPOLLIN | PREFORK_EPOLLRDHUP
        _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_MOD, connection.fd, events, connection.token)
        if !on && connection.start < connection.end && !connection.closeAfterFlush {
            serveBuffered(connection)  // pipelined requests that arrived while we waited
        }
    }

    /// After the last response: close at once if the client sent nothing more, or shut down
    /// our side and discard its input briefly, so it reads the response instead of a reset.
    private func finish(_ connection: Connection) {
        if connection.start == connection.end, case .head = connection.phase {
            return closeConnection(connection)
        }
        _ = shutdown(connection.fd, Int32(SHUT_WR))
        connection.phase = .lingering(until: now + 2_000_000_000)
        connection.start = 0
        connection.end = 0
        setWritable(connection, false)
    }

    private func discardInput(_ connection: Connection) {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(connection.fd, &scratch, scratch.count)
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            return closeConnection(connection)
        }
    }

    private func closeConnection(_ connection: Connection) {
        _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_DEL, connection.fd, 0, 0)
        _ = close(connection.fd)
        connections[Int(connection.fd)] = nil
        connectionCount -= 1
        slot.pointee.connections = UInt32(connectionCount)
        resumeAcceptingIfPossible()
    }

    // MARK: - Timers

    /// Once every quarter second: close idle keep-alive connections past `keepalive`, clients
    /// that take longer than `header_timeout` to send a request, lingering closes that are
    /// done, and (when draining) idle connections; notice a dead master.
    private func sweep() {
        nextSweep = now + 250_000_000
        writer.tick(realtimeNanos: Clock.realtime())
        if getppid() != options.masterPID {
            logger.warning("master process is gone; worker exiting")
            beginDrain(reason: "master gone")
        }
        let idleLimit = draining ? min(options.keepaliveNanos, 1_000_000_000) : options.keepaliveNanos
        for case let connection? in connections {
            switch connection.phase {
            case .head(let since):
                if let since {
                    if now - since > options.headerTimeoutNanos {
                        logger.debug(
                            "closing \(connection.peer.address): request head not received within header_timeout")
                        closeConnection(connection)
                    }
                } else if connection.isIdle && now - connection.lastActivity >= idleLimit {
                    closeConnection(connection)
                }
            case .body, .chunked:
                if now - connection.lastActivity > options.headerTimeoutNanos {
                    logger.info(
                        "closing \(connection.peer.address): request body stalled for longer than header_timeout")
                    closeConnection(connection)
                }
            case .lingering(let until):
                if now >= until { closeConnection(connection) }
            }
        }
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
