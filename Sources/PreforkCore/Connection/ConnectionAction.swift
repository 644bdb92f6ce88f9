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
