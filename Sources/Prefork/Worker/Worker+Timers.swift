import CPreforkShims
import PreforkCore
import SystemCalls

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
        if options.maxMemoryKiB > 0 && now >= nextMemoryCheck { checkMemory() }
    }

    /// Once a second with `max_worker_memory`: past it, the worker asks to be replaced (the
    /// master starts a new worker first, then drains this one, as for max_requests).
    func checkMemory() {
        nextMemoryCheck = now + 1_000_000_000
        guard slot.pointee.retire_requested == 0, !draining,
            let text = try? FileIO.read("/proc/self/smaps_rollup"),
            let kib = MemoryFigures.ownKiB(smapsRollup: String(decoding: text, as: UTF8.self))
        else { return }
        slot.pointee.memory_kib = kib
        guard MemoryFigures.isOver(kib: kib, limitKiB: options.maxMemoryKiB) else { return }
        slot.pointee.retire_requested = 2
        let limit = options.maxMemoryKiB / 1024
        logger.warning(
            "worker memory \(kib / 1024) MiB (its own pages, USS) is over max_worker_memory (\(limit) MiB); asking to be replaced"
        )
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
