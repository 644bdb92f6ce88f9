#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name and errno, and what it was about.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var errno: Int32
    public var context: String

    public init(_ call: String, errno: Int32 = Glibc.errno, context: String = "") {
        self.call = call
        self.errno = errno
        self.context = context
    }

    public var description: String {
        let message = String(cString: strerror(errno))
        return context.isEmpty ? "\(call): \(message)" : "\(context): \(call): \(message)"
    }
}

/// Runs a system call, retrying on EINTR: the one place EINTR is retried.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// Runs a system call that returns -1 on failure, retrying EINTR, and throws SystemError.
@discardableResult
func syscall<T: BinaryInteger>(_ name: String, context: String = "", _ body: () -> T) throws(SystemError) -> T {
    let result = retryingEINTR(body)
    if result == -1 { throw SystemError(name, context: context) }
    return result
}
