import CPreforkShims
import HTTPTypes
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

extension Worker {
    /// An epoll event on a connection: move the bytes, tell the state machine, then serve.
    func handleEvent(fd: Int32, token: UInt64, events: UInt32) {
        let index = Int(fd)
        guard index >= 0, index < connections.count, let connection = connections[index],
            connection.token.rawValue == token
        else { return }
        // One exclusive access to the state machine for the whole event: Swift checks each
        // access to a class's stored property at run time, and that costs more than the rest.
        handleEvent(on: connection, machine: &connection.machine)
    }

    private func handleEvent(on connection: Connection, machine: inout ConnectionStateMachine) {
        if connection.watchingWritable {
            // Waiting for the client to take pending output: nothing is read meanwhile.
            switch connection.flushPending() {
            case .failed: return closeConnection(connection)
            case .pending: return
            case .complete: machine.outputDrained(now: now)
            }
        } else {
            switch connection.read(into: machine.readSpace()) {
            case .bytes(let count): machine.bytesRead(count, now: now)
            case .wouldBlock: return
            case .eof, .error: machine.inputEnded()
            }
        }
        serve(connection, machine: &machine)
    }

    /// Performs the state machine's actions until it waits for the socket or closes. Pipelined
    /// responses gather in `output` and go out with one write per batch.
    private func serve(_ connection: Connection, machine: inout ConnectionStateMachine) {
        output.removeAll(keepingCapacity: true)
        while true {
            switch machine.next() {
            case .dispatch(let request, let persistence):
                if respond(to: request, on: connection, persistence: persistence) { machine.endBatch() }
            case .reject(let error):
                reject(error, on: connection)
            case .sendContinue:
                output.append(contentsOf: ResponseWriter.continueLine)
            case .flush:
                let result = output.withUnsafeBytes { connection.send($0) }
                output.removeAll(keepingCapacity: true)
                switch result {
                case .complete: break
                case .pending: machine.outputBlocked()
                case .failed: return closeConnection(connection)
                }
            case .waitForWritable:
                return watch(connection, writable: true)
            case .awaitInput:
                return watch(connection, writable: false)
            case .halfClose:
                _ = shutdown(connection.fd, Int32(SHUT_WR))
            case .close:
                return closeConnection(connection)
            }
        }
    }

    /// Switches what epoll watches the connection for: writability, or input.
    private func watch(_ connection: Connection, writable: Bool) {
        guard connection.watchingWritable != writable else { return }
        connection.watchingWritable = writable
        let events = writable ? PREFORK_EPOLLOUT : PREFORK_EPOLLIN | PREFORK_EPOLLRDHUP
        _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_MOD, connection.fd, events, connection.token.rawValue)
    }

    /// Answers a request the parser refused (the state machine closes after the answer).
    private func reject(_ error: HTTPParseError, on connection: Connection) {
        logger.info(
            "rejected request from \(connection.peer.address): \(error.status) \(error.reason)",
            metadata: ["remote_addr": "\(connection.peer.address)", "http_status": "\(error.status)"])
        requestCounter &+= 1
        writer.write(
            Response.error(HTTPResponse.Status(code: error.status)), requestID: .generated(requestCounter),
            persistence: .close, headOnly: false, into: &output)
    }

    // MARK: - Running the application

    /// Runs the handler on `progress` and appends the response to `output`; returns true when
    /// the body goes out separately (a file or a large page, queued on the connection, so the
    /// batch must end).
    private func respond(
        to progress: ConnectionRequest, on connection: Connection, persistence: ResponsePersistence
    ) -> Bool {
        let parsed = progress.parsed
        let startNanos = Clock.monotonic()
        requestCounter &+= 1
        let id = RequestID.choose(
            head: progress.head, parsed: parsed, peer: connection.peer, counter: requestCounter)
        let request = Request(
            head: progress.head, parsed: parsed, body: progress.body, peer: connection.peer, id: id)
        if let metrics, connection.servesMetrics {
            // A scrape is not a request of the application: no counter, access log or max_requests.
            _ = writer.write(
                metrics.endpoint.respond(to: request), requestID: id, head: progress.head, persistence: persistence,
                headOnly: parsed.methodCode == .head, into: &output)
            return false
        }
        beginRequest(request, at: startNanos)
        let response = run(request)
        prefork_slot_end_request(slot)
        prefork_slot_record_response(slot, Int32(response.status.code), Clock.monotonic() - startNanos)
        requestsServed += 1
        let bodyBytes = writer.write(
            response, requestID: id, head: progress.head, persistence: persistence,
            headOnly: parsed.methodCode == .head, into: &output)
        var queuedFile = false
        if bodyBytes > 0, response.body.sentSeparately {
            if case .file(let region) = response.body {
                connection.queueFile(region)
            } else {
                connection.queueBody(response.body)
            }
            queuedFile = true
        }
        if let accessLog {
            let duration = Clock.monotonic() - startNanos
            accessLog.record(
                request: request, response: response, bodyBytes: bodyBytes, durationNanos: duration,
                startRealtime: Clock.realtime() - duration)
        }
        if options.maxRequests > 0 && requestsServed >= options.maxRequests && slot.pointee.retire_requested == 0 {
            slot.pointee.retire_requested = 1
            logger.info("worker reached max_requests (\(requestsServed)); asking to be replaced")
        }
        return queuedFile
    }

    /// Records the request in the scoreboard slot (what the master names if it times out).
    private func beginRequest(_ request: Request, at startNanos: Int64) {
        request.withHeadBytes { bytes in
            let method = UnsafeRawBufferPointer(rebasing: bytes[request.parsed.method])
            let path = UnsafeRawBufferPointer(rebasing: bytes[request.parsed.path])
            request.id.withBytes(head: request.head) { rid in
                prefork_slot_begin_request(
                    slot, startNanos, method.baseAddress?.assumingMemoryBound(to: UInt8.self), method.count,
                    path.baseAddress?.assumingMemoryBound(to: UInt8.self), path.count,
                    rid.baseAddress?.assumingMemoryBound(to: UInt8.self), rid.count)
            }
        }
    }

    /// The handler's response, or a 500 when it throws.
    private func run(_ request: Request) -> Response {
        do {
            return try handler(request)
        } catch {
            logger.error(
                "handler failed: \(error)",
                metadata: [
                    "request_id": "\(request.requestID)", "http_method": "\(request.method.rawValue)",
                    "http_path": "\(request.path)",
                ])
            return Response.error(.internalServerError)
        }
    }
}
