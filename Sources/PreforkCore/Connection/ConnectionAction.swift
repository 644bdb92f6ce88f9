/// What a connection does after a response (decided by `ConnectionStateMachine`, in one place).
public enum ResponsePersistence: Sendable, Equatable {
    /// HTTP/1.1 keep-alive, the default: no `Connection` field.
    case keepAlive
    /// An HTTP/1.0 client asked for keep-alive: `Connection: keep-alive`.
    case keepAliveHTTP10
    /// `Connection: close`; the connection ends after this response.
    case close
}

/// A complete request the state machine hands to the application: a copy of its head (the one
/// allocation a request costs), the parsed head (offsets into `head`) and the whole body.
public struct ConnectionRequest: Sendable {
    public var head: [UInt8]
    public var parsed: HTTPRequestHead
    public var body: [UInt8]

    public init(head: [UInt8], parsed: HTTPRequestHead, body: [UInt8]) {
        self.head = head
        self.parsed = parsed
        self.body = body
    }
}

/// The next thing the driver must do for a connection, returned by `ConnectionStateMachine.next()`.
/// The driver performs it, reports what happened (if the action asks for it), and calls
/// `next()` again until it gets `.awaitInput`, `.waitForWritable` or `.close`.
public enum ConnectionAction: Sendable {
    /// Run the application on this request and append its response, written with this
    /// persistence, to the output buffer. If the response has a file body, call `endBatch()`.
    case dispatch(ConnectionRequest, ResponsePersistence)
    /// Append an error response with this status and `Connection: close` to the output buffer:
    /// the parser refused the request.
    case reject(HTTPParseError)
    /// Append `100 Continue` to the output buffer: the client waits for it before the body.
    case sendContinue
    /// Write the output buffer now (one write for a batch of pipelined responses), then report
    /// `outputBlocked()` if the socket did not take all of it.
    case flush
    /// Watch for writability; call `outputDrained(now:)` once the pending output is gone.
    case waitForWritable
    /// Watch for input (bytes, EOF) and the deadline; nothing else to do now.
    case awaitInput
    /// Shut down the write side (`shutdown(SHUT_WR)`): the last response is out but the client
    /// sent more. Input is then discarded until EOF or the linger deadline, so the client reads
    /// the response instead of a reset.
    case halfClose
    /// Close the connection.
    case close
}

/// Why a connection's deadline closed it (`ConnectionStateMachine.expired(now:)`).
public enum ConnectionTimeout: Sendable, Equatable {
    /// Idle between requests for `keepalive` (or the drain grace).
    case idle
    /// A request head started and did not complete within `header_timeout`.
    case headerStall
    /// No body bytes came for `header_timeout`.
    case bodyStall
    /// The lingering close after a final response is over.
    case lingerDone
}

/// The settings a connection obeys, resolved from the configuration.
public struct ConnectionConfiguration: Sendable, Equatable {
    public var limits: HTTPLimits
    /// Idle time between requests before the connection is closed; 0 disables keep-alive.
    public var keepaliveNanos: Int64
    /// Longest a head may take from its first byte, and longest a body may stall.
    public var headerTimeoutNanos: Int64

    /// How long input is discarded after a final response before closing anyway.
    public static let lingerNanos: Int64 = 2_000_000_000
    /// While draining, idle connections are closed after this (or `keepalive`, if shorter).
    public static let drainIdleNanos: Int64 = 1_000_000_000

    public init(limits: HTTPLimits, keepaliveNanos: Int64, headerTimeoutNanos: Int64) {
        self.limits = limits
        self.keepaliveNanos = keepaliveNanos
        self.headerTimeoutNanos = headerTimeoutNanos
    }

    /// The largest a request head may be, from the limits (request line and fields): the read
    /// buffer grows up to this, and a head that fills it is answered with 431.
    public var headBufferLimit: Int {
        let line = limits.requestLine == 0 ? 8192 : limits.requestLine + 2
        let fields = limits.fieldCount == 0 ? 32_768 : limits.fieldCount
        let size = limits.fieldSize == 0 ? 8192 : limits.fieldSize + 2
        return min(line + fields * size + 2, 1 << 20)
    }
}
