#if canImport(Glibc)
    import Glibc
#endif

// The one place EINTR is retried. Every module that makes system calls (the server, the HTTP
// client, the application's file work) goes through these two functions, and failures carry
// the call's name and errno as a ``SystemError``.

/// Runs a system call, retrying on EINTR: the one place EINTR is retried.
@inlinable @inline(__always)
public func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// Runs a system call that returns -1 on failure, retrying EINTR, and throws SystemError.
@inlinable @discardableResult
public func syscall<T: BinaryInteger>(_ name: String, context: String = "", _ body: () -> T) throws(SystemError) -> T {
    let result = retryingEINTR(body)
    if result == -1 { throw SystemError(name, context: context) }
    return result
}
