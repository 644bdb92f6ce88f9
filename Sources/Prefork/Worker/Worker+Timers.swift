import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

extension Worker {
    /// Once every quarter second: refresh the `Date:` field, notice a dead master, and close the
    /// connections whose state machine says their deadline passed (idle keep-alive, a head or body
    /// that stalls past `header_timeout`, a lingering close that is over, idle while draining),
    /// and give freed heap back once idle.
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
        releaseIdleHeap()
    }

    /// Once the worker has no connections left after serving requests, gives the kernel back
    /// the heap pages freed since (connection buffers, a page's intermediate strings): malloc
    /// keeps freed memory below the top of the heap otherwise, and an idle worker would hold
    /// its busiest moment's memory. At most once per sweep, and only after new requests, so a
    /// busy worker does not pay for it and an idle one pays once.
    private func releaseIdleHeap() {
        guard connectionCount == 0, requestsServed != requestsServedAtHeapRelease else { return }
        requestsServedAtHeapRelease = requestsServed
        prefork_release_free_heap()
    }
}
