/// One HTTP/1.1 connection as a pure state machine (Hummingbird 2's
/// `HTTPConnectionStateHandler` pattern): the worker's event loop feeds it events (bytes read,
/// EOF, output drained, the clock) and performs the actions it returns; every decision about the
/// connection is made here, without system calls, so it is tested with an injected clock.
///
/// It owns the read buffer and parses in place: request heads (`HTTPRequestHeadParser`), bodies
/// by Content-Length or chunked (`ChunkedDecoder`), `Expect: 100-continue`, and rejections
/// (answered, then the connection closes). It decides keep-alive once per response
/// (`persistence(for:)`), and the deadlines: idle keep-alive, header stall, body stall, the
/// drain grace and the lingering close.
///
/// Driving it: after each event call `next()` until it returns `.awaitInput`,
/// `.waitForWritable` or `.close`; call `expired(now:)` from a periodic sweep.
public struct ConnectionStateMachine {
    enum State {
        /// Waiting for a request head; `since` is when its first byte came (nil: none yet).
        case head(since: Int64?)
        /// Reading `bodyRequest`'s body by Content-Length.
        case body(remaining: Int)
        /// Reading `bodyRequest`'s body with `decoder`.
        case chunked
        /// The final response is out; input is discarded until EOF or `until`.
        case lingering(until: Int64)
        case closed
    }

    public let configuration: ConnectionConfiguration
    /// Bytes read and not consumed yet; the driver reads into `readSpace()`.
    public let input: ReadBuffer
    /// A small enum, cheap to switch on; the request whose body is being read and the chunked
    /// decoder are kept beside it, so they are mutated in place and never copied per event.
    var state: State = .head(since: nil)
    var bodyRequest: ConnectionRequest?
    var decoder = ChunkedDecoder(limit: 0)
    /// The clock as of the last event (monotonic nanoseconds).
    private(set) var now: Int64
    /// When something last happened on the connection: the idle and body-stall timers run from it.
    private(set) var lastActivity: Int64
    private(set) var isDraining = false
    /// Responses (or `100 Continue`) were appended to the output buffer and not flushed yet.
    var unflushed = false
    /// The last flush left output the socket did not take.
    private var blocked = false
    /// The response just appended must go out before another request is served (a file body).
    private var batchEnds = false
    /// The last response said `Connection: close`.
    var closeAfterResponse = false
    /// How much of an incomplete head the parser has seen, where its last line begins, and
    /// whether that line is a field line (see `headNeedsParsing`).
    var headParsedCount = 0
    var headLineStart = 0
    var headPastRequestLine = false

    public init(configuration: ConnectionConfiguration, now: Int64, bufferSize: Int = 4096) {
        self.configuration = configuration
        self.input = ReadBuffer(capacity: bufferSize)
        self.now = now
        self.lastActivity = now
    }

    // MARK: - Events

    /// Room to read into; nil when the buffer holds a head at the size limit (the driver then
    /// calls `next()` without reading, and the head is answered with 431).
    public func readSpace() -> UnsafeMutableRawBufferPointer? {
        input.freeSpace(limit: configuration.headBufferLimit)
    }

    /// `count` bytes were read into `readSpace()`.
    public mutating func bytesRead(_ count: Int, now: Int64) {
        input.didRead(count)
        touch(now)
        if case .lingering = state { input.clear() }
    }

    /// The client closed its side (EOF) or the socket failed: nothing more can be served.
    public mutating func inputEnded() {
        state = .closed
    }

    /// The output the last flush left has gone out.
    public mutating func outputDrained(now: Int64) {
        blocked = false
        touch(now)
    }

    /// The last flush left output the socket did not take.
    public mutating func outputBlocked() {
        blocked = true
    }

    /// The response just dispatched has a file body: flush before serving another request, so
    /// nothing is written between its head and its last byte.
    public mutating func endBatch() {
        batchEnds = true
    }

    /// The worker drains: the next response says `Connection: close`, and idle connections close
    /// after the drain grace.
    public mutating func beginDrain() {
        isDraining = true
    }

    private mutating func touch(_ now: Int64) {
        self.now = now
        lastActivity = now
    }

    // MARK: - Actions

    /// The next thing to do. Call again after performing it, until it returns `.awaitInput`,
    /// `.waitForWritable` or `.close`.
    public mutating func next() -> ConnectionAction {
        switch state {
        case .closed: return .close
        case .lingering: return .awaitInput
        default: break
        }
        if blocked { return .waitForWritable }
        if !closeAfterResponse && !batchEnds, let action = advance() { return action }
        if unflushed {
            unflushed = false
            batchEnds = false
            return .flush
        }
        if closeAfterResponse { return finish() }
        return .awaitInput
    }

    /// After the final response: close at once if the client sent nothing more, or half-close
    /// and discard its input for a while, so it reads the response instead of a reset.
    private mutating func finish() -> ConnectionAction {
        guard !input.isEmpty else {
            state = .closed
            return .close
        }
        input.clear()
        state = .lingering(until: now + ConnectionConfiguration.lingerNanos)
        return .halfClose
    }

    /// Whether the connection may be reused after a response to `head`: the one place keep-alive
    /// is decided (the client's version and Connection field, `keepalive` 0, draining).
    public func persistence(for head: HTTPRequestHead) -> ResponsePersistence {
        if isDraining || !head.keepAlive || configuration.keepaliveNanos == 0 { return .close }
        return head.versionMinor == 0 ? .keepAliveHTTP10 : .keepAlive
    }

    // MARK: - Timers

    /// Between requests, with nothing buffered and nothing left to send.
    public var isIdle: Bool {
        if case .head(nil) = state, input.isEmpty, !blocked, !unflushed { return true }
        return false
    }

    /// How long an idle connection is kept: `keepalive`, or the drain grace if shorter.
    var idleLimit: Int64 {
        isDraining
            ? min(configuration.keepaliveNanos, ConnectionConfiguration.drainIdleNanos) : configuration.keepaliveNanos
    }

    /// When the connection's current timer fires, or nil when none runs (output is waiting for
    /// a slow reader: the drain's `graceful_timeout` bounds that).
    public var deadline: Int64? {
        switch state {
        case .head(let since?): return since + configuration.headerTimeoutNanos
        case .head(nil): return isIdle ? lastActivity + idleLimit : nil
        case .body, .chunked: return lastActivity + configuration.headerTimeoutNanos
        case .lingering(let until): return until
        case .closed: return nil
        }
    }

    /// Whether the deadline passed at `now`, and why; the connection is then closed.
    public mutating func expired(now: Int64) -> ConnectionTimeout? {
        self.now = now
        guard let deadline else { return nil }
        let timeout: ConnectionTimeout
        switch state {
        case .head(.some): timeout = .headerStall
        case .head(nil): timeout = .idle
        case .body, .chunked: timeout = .bodyStall
        case .lingering: timeout = .lingerDone
        case .closed: return nil
        }
        // Stalls are "longer than header_timeout"; idle and linger end at their deadline.
        let passed = timeout == .headerStall || timeout == .bodyStall ? now > deadline : now >= deadline
        guard passed else { return nil }
        state = .closed
        return timeout
    }
}
