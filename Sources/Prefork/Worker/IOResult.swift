#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of one non-blocking read, write or sendfile (as SwiftNIO's `IOResult`), instead
/// of a sentinel integer.
enum IOResult {
    /// This many bytes moved (more than zero).
    case bytes(Int)
    /// The socket is not ready (EAGAIN): wait for epoll.
    case wouldBlock
    /// The peer closed its side (a read returned 0).
    case eof
    /// The call failed; the connection is unusable.
    case error(SystemError)

    /// Interprets a system call's return value (EINTR already retried), reading errno on failure.
    init(_ call: String, returned value: Int) {
        if value > 0 {
            self = .bytes(value)
        } else if value == 0 {
            self = .eof
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
            self = .wouldBlock
        } else {
            self = .error(SystemError(call))
        }
    }
}

/// Where output stands after a write: all gone, some left for `EPOLLOUT`, or a failed socket.
enum FlushResult: Equatable {
    case complete
    case pending
    case failed
}
