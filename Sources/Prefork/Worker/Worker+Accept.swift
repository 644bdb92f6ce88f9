import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

extension Worker {
    /// Adds or removes the listening sockets. EPOLLEXCLUSIVE wakes one worker per connection.
    func watchListeners(_ on: Bool) throws(SystemError) {
        for (index, fd) in listeners.enumerated() where fd >= 0 {
            let token = EventToken.listener(index).rawValue
            if on {
                let events = PREFORK_EPOLLIN | PREFORK_EPOLLEXCLUSIVE
                try syscall("epoll_ctl") { prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_ADD, fd, events, token) }
            } else {
                _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_DEL, fd, 0, token)
            }
        }
    }

    /// Performs what the accept gate decided.
    func apply(_ change: AcceptGate.Change) {
        switch change {
        case .unchanged: break
        case .pause: try? watchListeners(false)
        case .resume: try? watchListeners(true)
        }
    }

    func acceptConnections(_ listener: Int32, servesMetrics: Bool = false) {
        // Take at most a few per wake-up, so connections spread over the workers.
        for _ in 0..<16 {
            let gate = acceptGate.mayAccept(open: connectionCount)
            apply(gate.change)
            guard gate.allowed else { return }
            var address = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let fd = retryingEINTR { prefork_accept(listener, &address, &length) }
            if fd < 0 {
                if errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {
                    logger.error("cannot accept: too many open files (raise LimitNOFILE or lower max_connections)")
                    apply(acceptGate.outOfDescriptors())
                }
                return
            }
            register(fd: fd, address: address, servesMetrics: servesMetrics)
        }
    }

    /// With `reuse_port`, the kernel keeps queueing connections on this worker's own sockets
    /// until they are closed, and resets whatever is still queued when the worker exits (unless
    /// `net.ipv4.tcp_migrate_req` is 1). A draining worker takes what is queued, serves it with
    /// `Connection: close`, and closes its own sockets at once, so new connections go to the
    /// other sockets of the group.
    func closeOwnListeners() {
        for index in (listeners.count - ownListenerCount)..<listeners.count where listeners[index] >= 0 {
            let listener = listeners[index]
            while true {
                var address = sockaddr_storage()
                var length = UInt32(MemoryLayout<sockaddr_storage>.size)
                let fd = retryingEINTR { prefork_accept(listener, &address, &length) }
                if fd < 0 {
                    if errno == ECONNABORTED { continue }
                    break
                }
                register(fd: fd, address: address)
            }
            _ = close(listener)
            listeners[index] = -1
        }
    }

    private func register(fd: Int32, address: sockaddr_storage, servesMetrics: Bool = false) {
        if address.ss_family == sa_family_t(AF_INET) || address.ss_family == sa_family_t(AF_INET6) {
            _ = prefork_setsockopt_int(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        }
        let text = Worker.addressText(address)
        let peer = Peer(address: text, trusted: options.proxyTrust.trusts(text), trustedNetworks: options.proxyTrust)
        var machine = ConnectionStateMachine(
            configuration: connectionConfiguration, now: now, bufferSize: Worker.readBufferSize)
        if draining { machine.beginDrain() }
        let connection = Connection(fd: fd, serial: nextSerial, peer: peer, machine: machine)
        connection.servesMetrics = servesMetrics
        nextSerial = EventToken.serial(after: nextSerial)
        let events = PREFORK_EPOLLIN | PREFORK_EPOLLRDHUP
        guard prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_ADD, fd, events, connection.token.rawValue) == 0 else {
            _ = close(fd)
            return
        }
        let index = Int(fd)
        if index >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: index + 64 - connections.count))
        }
        connections[index] = connection
        connectionCount += 1
        slot.pointee.connections = UInt32(connectionCount)
    }

    func closeConnection(_ connection: Connection) {
        _ = prefork_epoll_ctl(epoll, PREFORK_EPOLL_CTL_DEL, connection.fd, 0, 0)
        _ = close(connection.fd)
        connections[Int(connection.fd)] = nil
        connectionCount -= 1
        slot.pointee.connections = UInt32(connectionCount)
        apply(acceptGate.connectionClosed(open: connectionCount))
    }

    /// The numeric address of a TCP peer, or "unix" for a unix-socket peer.
    static func addressText(_ storage: sockaddr_storage) -> String {
        let family = Int32(storage.ss_family)
        guard family == AF_INET || family == AF_INET6 else { return "unix" }
        var storage = storage
        var host = [CChar](repeating: 0, count: 64)
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard status == 0 else { return "-" }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
