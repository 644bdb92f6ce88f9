/// What a connection does after a response (decided by `ConnectionStateMachine`, in one place).
public enum ResponsePersistence: Sendable, Equatable {
    /// HTTP/1.1 keep-alive, the default: no `Connection` field.
    case keepAlive
    /// An HTTP/1.0 client asked for keep-alive: `Connection: keep-alive`.
    case keepAliveHTTP10
    /// `Connection: close`; the connection ends after this response.
    case close
}
