#if canImport(Glibc)
    import Glibc
#endif

/// Bytes of an open file sent as a response body with `sendfile(2)`, straight from the page
/// cache to the socket after the response head, without passing through the worker's memory.
///
/// The region owns its descriptor and closes it when the last reference goes: after the
/// connection has sent it, when the connection closes early, or when a response that holds
/// it is dropped unsent (a `HEAD` request, a middleware that replaced the response).
/// The file must not shrink while it is sent: the head already promised `count` bytes, so the
/// connection is closed if the file ends early.
public final class FileRegion: Sendable {
    public let descriptor: Int32
    public let offset: Int
    public let count: Int

    /// Takes ownership of `descriptor` (an open regular file): do not close it yourself.
    public init(takingOwnershipOf descriptor: Int32, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0, "FileRegion needs a non-negative offset and count")
        self.descriptor = descriptor
        self.offset = offset
        self.count = count
    }

    deinit {
        _ = close(descriptor)
    }

    /// Reads the region into memory (for tests and for callers that need the bytes).
    public func readAll() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                retryingEINTR { pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done)) }
            }
            guard n > 0 else { break }
            done += n
        }
        return Array(bytes[0..<done])
    }
}
