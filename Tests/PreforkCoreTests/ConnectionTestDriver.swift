@testable import PreforkCore

/// Drives a `ConnectionStateMachine` the way the worker does, without a socket: bytes go into
/// its read buffer, actions are performed on a transcript, and the clock is whatever the test
/// says (nanoseconds).
struct ConnectionTestDriver {
    /// What the driver did, in order: `dispatch GET /a keepAlive`, `reject 413`, `continue`,
    /// `flush [..]`, `wait writable`, `half-close`, `close`.
    var transcript: [String] = []
    var machine: ConnectionStateMachine
    var now: Int64 = 0
    /// Requests dispatched, in order.
    var requests: [ConnectionRequest] = []
    var rejections: [HTTPParseError] = []
    /// Responses appended since the last flush; each flush writes them as one batch.
    var output: [String] = []
    /// Batches written, one per flush.
    var batches: [[String]] = []
    /// The next flush leaves output pending (the socket is full).
    var socketFull = false
    /// Dispatching a request whose target is `/file` queues a file body (ends the batch).
    var closed = false
    var halfClosed = false

    init(
        limits: HTTPLimits = HTTPLimits(), keepalive: Int64 = 5 * second, headerTimeout: Int64 = 10 * second,
        bufferSize: Int = 4096
    ) {
        let configuration = ConnectionConfiguration(
            limits: limits, keepaliveNanos: keepalive, headerTimeoutNanos: headerTimeout)
        machine = ConnectionStateMachine(configuration: configuration, now: 0, bufferSize: bufferSize)
    }

    /// Delivers `bytes` at the current time (in as many reads as the buffer needs) and serves.
    mutating func receive(_ bytes: [UInt8]) {
        var offset = 0
        repeat {
            guard let space = machine.readSpace() else {
                serve()
                return
            }
            let count = min(space.count, bytes.count - offset)
            bytes.withUnsafeBytes { source in
                space.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
            }
            offset += count
            machine.bytesRead(count, now: now)
            serve()
        } while offset < bytes.count && !closed
    }

    mutating func receive(_ text: String) {
        receive(Array(text.utf8))
    }

    /// The client closed its side.
    mutating func receiveEOF() {
        machine.inputEnded()
        serve()
    }

    /// The socket took the pending output.
    mutating func drainOutput() {
        socketFull = false
        machine.outputDrained(now: now)
        serve()
    }

    /// Moves the clock and runs the sweep; returns the timeout that closed the connection.
    @discardableResult
    mutating func advance(to time: Int64) -> ConnectionTimeout? {
        now = time
        guard let timeout = machine.expired(now: time) else { return nil }
        transcript.append("timeout \(timeout)")
        closed = true
        return timeout
    }

    /// Performs actions until the machine waits.
    mutating func serve() {
        while !closed {
            switch machine.next() {
            case .dispatch(let request, let persistence):
                requests.append(request)
                let line = requestLine(request)
                transcript.append("dispatch \(line) \(persistence)")
                output.append(line)
                if line.hasSuffix(" /file") { machine.endBatch() }
            case .reject(let error):
                rejections.append(error)
                transcript.append("reject \(error.status)")
                output.append("\(error.status)")
            case .sendContinue:
                transcript.append("continue")
                output.append("100")
            case .flush:
                transcript.append("flush \(output)")
                batches.append(output)
                output = []
                if socketFull { machine.outputBlocked() }
            case .waitForWritable:
                transcript.append("wait writable")
                return
            case .awaitInput:
                return
            case .halfClose:
                transcript.append("half-close")
                halfClosed = true
            case .close:
                transcript.append("close")
                closed = true
            }
        }
    }

    /// `GET /path` of a dispatched request.
    func requestLine(_ request: ConnectionRequest) -> String {
        let method = String(decoding: request.head[request.parsed.method], as: UTF8.self)
        let target = String(decoding: request.head[request.parsed.target], as: UTF8.self)
        return "\(method) \(target)"
    }
}

let second: Int64 = 1_000_000_000
