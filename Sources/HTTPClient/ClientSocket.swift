import SystemCalls

#if canImport(Glibc)
    import Glibc
#endif

/// A point on the monotonic clock by which a request must be done.
struct Deadline {
    let nanoseconds: Int64
    /// The timeout the deadline was made from, for messages.
    let timeout: Double

    init(after seconds: Double) {
        timeout = seconds
        nanoseconds = Self.now() + Int64(max(0, seconds) * 1_000_000_000)
    }

    /// Milliseconds left for poll, rounded up so that poll never returns just before the deadline.
    var remainingMilliseconds: Int32 {
        let left = nanoseconds - Self.now()
        guard left > 0 else { return 0 }
        return Int32(min((left + 999_999) / 1_000_000, Int64(Int32.max)))
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// A non-blocking TCP socket whose every wait is bounded by a ``Deadline``. Closed on deinit.
final class ClientSocket {
    private let fd: Int32
    let endpoint: String
    let deadline: Deadline

    private init(fd: Int32, endpoint: String, deadline: Deadline) {
        self.fd = fd
        self.endpoint = endpoint
        self.deadline = deadline
    }

    deinit { close(fd) }

    /// Resolves `host` (through the client's `addresses`) and connects to the first address that
    /// accepts, within the deadline. Name resolution (getaddrinfo), when it happens, blocks and is
    /// bounded by the resolver's own timeouts (`/etc/resolv.conf`), not by the deadline: there is
    /// no portable non-blocking resolver.
    static func connect(
        host: String, port: Int, endpoint: String, deadline: Deadline, addresses cache: inout AddressCache
    ) throws(HTTPClientError) -> ClientSocket {
        let addresses = try cache.addresses(for: "\(host):\(port)", now: Deadline.now()) {
            () throws(HTTPClientError) in try resolve(host: host, port: port, endpoint: endpoint)
        }
        var lastError = HTTPClientError(.network, endpoint: endpoint, phase: .connecting, "no address to connect to")
        for address in addresses {
            do {
                return try connect(to: address, endpoint: endpoint, deadline: deadline)
            } catch {
                lastError = error
                if error.kind == .timedOut { break }
            }
        }
        throw lastError
    }

    private static func resolve(host: String, port: Int, endpoint: String) throws(HTTPClientError)
        -> [AddressCache.Address]
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw HTTPClientError(.dnsFailure, endpoint: endpoint, phase: .connecting, "DNS lookup failed: \(reason)")
        }
        defer { freeaddrinfo(list) }
        var addresses: [AddressCache.Address] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            let info = current.pointee
            let bytes = Array(UnsafeRawBufferPointer(start: info.ai_addr, count: Int(info.ai_addrlen)))
            addresses.append(
                AddressCache.Address(
                    family: Int(info.ai_family), socketType: Int(info.ai_socktype),
                    socketProtocol: Int(info.ai_protocol),
                    bytes: bytes))
            node = info.ai_next
        }
        return addresses
    }

    private static func connect(to address: AddressCache.Address, endpoint: String, deadline: Deadline)
        throws(HTTPClientError) -> ClientSocket
    {
        let fd = socket(
            Int32(address.family), Int32(address.socketType) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
            Int32(address.socketProtocol))
        guard fd >= 0 else { throw failure(errno, endpoint: endpoint, phase: .connecting, call: "socket") }
        let socket = ClientSocket(fd: fd, endpoint: endpoint, deadline: deadline)
        let started = address.bytes.withUnsafeBytes { raw in
            retryingEINTR {
                Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
        }
        if started == 0 { return socket }
        guard errno == EINPROGRESS || errno == EINTR else {
            throw failure(errno, endpoint: endpoint, phase: .connecting, call: "connect")
        }
        try socket.wait(for: Int16(POLLOUT), phase: .connecting)
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
            throw failure(errno, endpoint: endpoint, phase: .connecting, call: "getsockopt")
        }
        guard error == 0 else { throw failure(error, endpoint: endpoint, phase: .connecting, call: "connect") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return socket
    }

    /// Sends all of `bytes`, waiting for the socket to drain as needed. MSG_NOSIGNAL: a server
    /// that has gone is an error here, never a SIGPIPE.
    func send(_ bytes: [UInt8], phase: HTTPClientError.Phase) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                retryingEINTR {
                    Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
            }
            if sent >= 0 {
                offset += sent
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(for: Int16(POLLOUT), phase: phase)
            } else {
                throw Self.failure(errno, endpoint: endpoint, phase: phase, call: "send")
            }
        }
    }

    /// Reads what has arrived into `buffer`, waiting until something has; 0 means the server
    /// closed the connection.
    func receive(into buffer: UnsafeMutableRawBufferPointer, phase: HTTPClientError.Phase) throws(HTTPClientError)
        -> Int
    {
        while true {
            let count = retryingEINTR { recv(fd, buffer.baseAddress, buffer.count, 0) }
            if count >= 0 { return count }
            guard errno == EAGAIN || errno == EWOULDBLOCK else {
                throw Self.failure(errno, endpoint: endpoint, phase: phase, call: "recv")
            }
            try wait(for: Int16(POLLIN), phase: phase)
        }
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    private func wait(for events: Int16, phase: HTTPClientError.Phase) throws(HTTPClientError) {
        while true {
            let milliseconds = deadline.remainingMilliseconds
            guard milliseconds > 0 else { throw timedOut(phase) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = retryingEINTR { poll(&entry, 1, milliseconds) }
            if ready > 0 { return }  // ready, or an error the next call will report
            if ready < 0 { throw Self.failure(errno, endpoint: endpoint, phase: phase, call: "poll") }
        }
    }

    private func timedOut(_ phase: HTTPClientError.Phase) -> HTTPClientError {
        HTTPClientError(
            .timedOut, endpoint: endpoint, phase: phase,
            "timed out after \(HTTPClientError.seconds(deadline.timeout)) \(phase.rawValue)")
    }

    private static func failure(_ code: Int32, endpoint: String, phase: HTTPClientError.Phase, call: String)
        -> HTTPClientError
    {
        let reason = String(cString: strerror(code))
        switch code {
        case ECONNREFUSED:
            return HTTPClientError(.connectionRefused, endpoint: endpoint, phase: phase, "connection refused")
        case ECONNRESET, EPIPE:
            return HTTPClientError(
                .closedEarly, endpoint: endpoint, phase: phase, "connection reset by the server \(phase.rawValue)")
        default:
            return HTTPClientError(.network, endpoint: endpoint, phase: phase, "\(call): \(reason) \(phase.rawValue)")
        }
    }
}
