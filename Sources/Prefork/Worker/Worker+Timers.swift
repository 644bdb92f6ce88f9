import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

extension Worker {
    /// Once every quarter second: refresh the `Date:` field, notice a dead master, and close the
    /// connections whose state machine says their deadline passed (idle keep-alive, a head or body
    /// that stalls past `header_timeout`, a lingering close that is over, idle while draining).
    func sweep() {
        nextSweep = now + 250_000_000
        writer.tick(realtimeNanos: Clock.realtime())
        if getppid() != options.masterPID {
            logger.warning("master process is gone; worker exiting")
            beginDrain(reason: "master gone")
        }
        for case let connection? in connections {
            guard let timeout = connection.machine.expired(now: now) else { continue }
            switch timeout {
            case .headerStall:
                logger.debug("closing \(connection.peer.address): request head not received within header_timeout")
            case .bodyStall:
                logger.info(
                    "closing \(connection.peer.address): request body stalled for longer than header_timeout")
            case .idle, .lingerDone:
                break
            }
            closeConnection(connection)
        }
    }
}
