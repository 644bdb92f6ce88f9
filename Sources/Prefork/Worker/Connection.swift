import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection in a worker: its socket, its state machine (which decides everything
/// about it), and output the socket has not taken yet. This type only moves bytes.
final class Connection {
    let fd: Int32
    let token: EventToken
    let peer: Peer
    var machine: ConnectionStateMachine
    /// Whether epoll watches for writability (else for input).
    var watchingWritable = false
    /// Accepted on the `metrics_bind` listener: answered by the metrics endpoint, not the application.
    var servesMetrics = false
    /// Output the socket has not accepted yet (rare: most responses go out at once).
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// A file body to send with sendfile(2) after `pending`, and the next offset to send from.
    /// While one is queued the state machine serves no further pipelined request (`endBatch`),
    /// so nothing else can be written between the head and the file's last byte.
    private var file: FileRegion?
    private var fileOffset: Int64 = 0
    private var fileEnd: Int64 = 0
    /// A large in-memory body (a page) to go out with the next `send`'s bytes in one `writev`,
    /// straight from the handler's buffer instead of copied behind the head. The same batch
    /// rule as for a file keeps anything else from coming between.
    private var body: ResponseBody?

    init(fd: Int32, serial: UInt32, peer: Peer, machine: ConnectionStateMachine) {
        self.fd = fd
        self.token = .connection(fd: fd, serial: serial)
        self.peer = peer
        self.machine = machine
    }

    /// Reads what the socket has into `space` (the state machine's `readSpace()`). With no room
    /// left (a head at the size limit) it reads nothing and reports zero bytes; the machine then
    /// rejects the head.
    func read(into space: UnsafeMutableRawBufferPointer?) -> IOResult {
        guard let space else { return .bytes(0) }
        return IOResult("read", returned: retryingEINTR { Glibc.read(fd, space.baseAddress!, space.count) })
    }

    /// Queues a file body: it goes out after the bytes passed to the next `send`.
    func queueFile(_ region: FileRegion) {
        file = region
        fileOffset = Int64(region.offset)
        fileEnd = Int64(region.offset + region.count)
    }

    /// Queues an in-memory body: it goes out right after the bytes passed to the next `send`.
    func queueBody(_ body: ResponseBody) {
        self.body = body
    }

    /// Writes `bytes` (after any pending bytes), then the queued body or file.
    func send(_ bytes: UnsafeRawBufferPointer) -> FlushResult {
        if let body {
            self.body = nil
            return body.withBytes { sendGathered(bytes, $0) }
        }
        if pendingOffset < pending.count {
            pending.append(contentsOf: bytes)
            return flushPending()
        }
        guard let written = writeAvailable(bytes) else { return .failed }
        if written < bytes.count {
            pending.removeAll(keepingCapacity: true)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[written...]))
            pendingOffset = 0
            return .pending
        }
        return sendFile()
    }

    /// Writes pending output, then the queued file.
    func flushPending() -> FlushResult {
        let offset = pendingOffset
        let written = pending.withUnsafeBytes { writeAvailable(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        guard let written else { return .failed }
        pendingOffset += written
        if pendingOffset < pending.count { return .pending }
        pending.removeAll(keepingCapacity: false)
        pendingOffset = 0
        return sendFile()
    }

    /// Writes `head` then `body` with as few `writev` calls as the socket needs; what it does not
    /// take now is copied to `pending` (the rare path).
    private func sendGathered(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> FlushResult {
        if pendingOffset < pending.count {
            pending.append(contentsOf: head)
            pending.append(contentsOf: body)
            return flushPending()
        }
        var written = 0
        let total = head.count + body.count
        while written < total {
            var vectors = (iovec(), iovec())
            let headLeft = max(0, head.count - written)
            let bodyFrom = max(0, written - head.count)
            vectors.0 = iovec(
                iov_base: headLeft > 0 ? UnsafeMutableRawPointer(mutating: head.baseAddress! + written) : nil,
                iov_len: headLeft)
            vectors.1 = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress.map { $0 + bodyFrom }),
                iov_len: body.count - bodyFrom)
            let result = withUnsafePointer(to: &vectors) { pair in
                pair.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                    retryingEINTR { writev(fd, headLeft > 0 ? vector : vector + 1, headLeft > 0 ? 2 : 1) }
                }
            }
            switch IOResult("writev", returned: result) {
            case .bytes(let n): written += n
            case .wouldBlock:
                pending.removeAll(keepingCapacity: true)
                if written < head.count {
                    pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: head[written...]))
                }
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[max(0, written - head.count)...]))
                pendingOffset = 0
                return .pending
            case .eof, .error: return .failed
            }
        }
        return .complete
    }

    /// Writes as much of `bytes` as the socket takes now: the count written, or nil when the
    /// socket failed.
    private func writeAvailable(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.count - offset
            switch IOResult("write", returned: retryingEINTR { write(fd, bytes.baseAddress! + offset, count) }) {
            case .bytes(let n): offset += n
            case .wouldBlock: return offset
            case .eof, .error: return nil
            }
        }
        return offset
    }

    /// Sends the queued file until it is done or the socket is full. Fails on a socket error, or
    /// when the file ended before the length the head promised (it shrank).
    private func sendFile() -> FlushResult {
        guard let file else { return .complete }
        while fileOffset < fileEnd {
            let count = Int(fileEnd - fileOffset)
            let sent = retryingEINTR { prefork_sendfile(fd, file.descriptor, &fileOffset, count) }
            switch IOResult("sendfile", returned: sent) {
            case .bytes: continue
            case .wouldBlock: return .pending
            case .eof, .error: return .failed
            }
        }
        self.file = nil
        return .complete
    }
}
