import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection in a worker: its read buffer, where it is in the current request,
/// and output the socket has not taken yet. The event loop drives it; it makes no decisions
/// about other connections.
final class Connection {
    enum Phase {
        /// Waiting for (the rest of) a request head; `since` is when its first byte came.
        case head(since: Int64?)
        /// Reading a body by Content-Length.
        case body(RequestInProgress, remaining: Int)
        /// Reading a chunked body.
        case chunked(RequestInProgress, ChunkedDecoder)
        /// Response sent with `Connection: close`; discarding input until EOF or the deadline.
        case lingering(until: Int64)
    }

    struct RequestInProgress {
        var head: [UInt8]
        var parsed: HTTPRequestHead
        var body: [UInt8]
    }

    let fd: Int32
    let serial: UInt32
    let peer: Peer
    var phase: Phase = .head(since: nil)
    /// Bytes read and not consumed yet: buffer[start..<end].
    var buffer: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    /// Output the socket has not accepted yet (rarely used: most responses go out at once).
    var pending: [UInt8] = []
    var pendingOffset = 0
    /// A file body to send with sendfile(2) after `pending`, and the next offset to send from.
    /// While one is queued the worker serves no further pipelined request on this connection,
    /// so nothing else can be written between the head and the file's last byte.
    private(set) var file: FileRegion?
    private var fileOffset: Int64 = 0
    private var fileEnd: Int64 = 0
    var lastActivity: Int64
    var closeAfterFlush = false
    var waitingForWritable = false
    var requestsServed = 0

    init(fd: Int32, serial: UInt32, peer: Peer, now: Int64, bufferSize: Int) {
        self.fd = fd
        self.serial = serial
        self.peer = peer
        self.lastActivity = now
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    var token: UInt64 { UInt64(serial) << 32 | UInt64(UInt32(bitPattern: fd)) }

    /// How much of an incomplete head the parser has seen (bytes from `start`), and where its
    /// last line begins. The parser is stateless, so a head arriving in many small reads is parsed
    /// again only when a line ends or the current line outgrows the line limits, not on every
    /// read: a client trickling bytes cannot make each read cost the whole buffer.
    var headParsedCount = 0
    var headLineStart = 0

    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[start..<end]) }

    /// No request in progress and nothing left to send.
    var isIdle: Bool {
        if case .head(let since) = phase, since == nil, start == end, !hasPendingOutput { return true }
        return false
    }

    var hasPendingOutput: Bool { pendingOffset < pending.count || file != nil }

    var hasQueuedFile: Bool { file != nil }

    /// Queues a file body: it goes out after the bytes passed to the next `send`.
    func queueFile(_ region: FileRegion) {
        file = region
        fileOffset = Int64(region.offset)
        fileEnd = Int64(region.offset + region.count)
    }

    /// Reads what the socket has. Returns the bytes read, 0 on EOF, -1 when nothing is ready,
    /// or -2 on a socket error.
    func readAvailable(limit: Int) -> Int {
        if end == buffer.count {
            if start > 0 {
                compact()
            } else if buffer.count < limit {
                grow(to: min(limit, buffer.count * 2))
            } else {
                return -3  // head larger than the buffer may grow: the parser reports the limit
            }
        }
        let space = buffer.count - end
        let n = retryingEINTR { read(fd, buffer.baseAddress! + end, space) }
        if n > 0 {
            end += n
            return n
        }
        if n == 0 { return 0 }
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2
    }

    func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    private func compact() {
        let count = end - start
        if count > 0 { (buffer.baseAddress! + 0).copyMemory(from: buffer.baseAddress! + start, byteCount: count) }
        start = 0
        end = count
    }

    private func grow(to size: Int) {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
        buffer.deallocate()
        buffer = bigger
        end -= start
        start = 0
    }

    /// Writes `bytes` (after any pending bytes), then the queued file. Returns false on a
    /// socket error.
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if pendingOffset < pending.count {
            pending.append(contentsOf: bytes)
            return flushPending()
        }
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                pending.removeAll(keepingCapacity: true)
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                pendingOffset = 0
                return true
            }
            return false
        }
        return sendFile()
    }

    /// Writes pending output. Returns false on a socket error.
    func flushPending() -> Bool {
        while pendingOffset < pending.count {
            let n = pending.withUnsafeBytes { raw in
                retryingEINTR { write(fd, raw.baseAddress! + pendingOffset, raw.count - pendingOffset) }
            }
            if n > 0 {
                pendingOffset += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            return false
        }
        pending.removeAll(keepingCapacity: false)
        pendingOffset = 0
        return sendFile()
    }

    /// Sends the queued file until it is done or the socket is full. Returns false on a socket
    /// error, or when the file ended before the length the head promised (it shrank).
    private func sendFile() -> Bool {
        guard let file else { return true }
        while fileOffset < fileEnd {
            let n = retryingEINTR { prefork_sendfile(fd, file.descriptor, &fileOffset, Int(fileEnd - fileOffset)) }
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            return false
        }
        self.file = nil
        return true
    }
}
