import Testing

@testable import PreforkCore

@Suite struct SupervisionPolicyTests {
    let second: Int64 = 1_000_000_000

    func worker(
        _ pid: Int32, generation: UInt64 = 1, phase: WorkerRecord.Phase = .ready, spawnedAt: Int64 = 0,
        busySince: Int64? = nil, heartbeat: Int64 = 0, retire: Bool = false, abortSentAt: Int64? = nil
    ) -> WorkerRecord {
        var record = WorkerRecord(
            pid: pid, generation: generation, spawnedAt: spawnedAt, phase: phase,
            reading: SlotReading(
                serving: phase != .booting, request: busySince.map { InFlightRequest(start: $0) },
                heartbeat: heartbeat, retireRequested: retire))
        record.abortSentAt = abortSentAt
        return record
    }

    // MARK: - plan

    @Test func startsMissingWorkers() {
        let plan = SupervisionPolicy.plan(workers: [worker(10)], target: 3, generation: 1)
        #expect(plan.spawn == 2)
        #expect(plan.drain.isEmpty)
    }

    @Test func reloadStartsNewGenerationBeforeDrainingOld() {
        let old = [worker(10), worker(11)]
        let first = SupervisionPolicy.plan(workers: old, target: 2, generation: 2)
        #expect(first.spawn == 2)
        #expect(first.drain.isEmpty, "old workers keep serving until the new generation is ready")

        let booting = old + [worker(20, generation: 2, phase: .booting), worker(21, generation: 2, phase: .booting)]
        let second = SupervisionPolicy.plan(workers: booting, target: 2, generation: 2)
        #expect(second.spawn == 0)
        #expect(second.drain.isEmpty)

        let ready = old + [worker(20, generation: 2), worker(21, generation: 2)]
        let third = SupervisionPolicy.plan(workers: ready, target: 2, generation: 2)
        #expect(third.spawn == 0)
        #expect(third.drain.map(\.pid).sorted() == [10, 11])
        #expect(third.drain.allSatisfy { $0.reason == .replacedByNewGeneration })
    }

    @Test func retiringWorkerIsReplacedBeforeItDrains() {
        let workers = [worker(10, retire: true), worker(11)]
        let first = SupervisionPolicy.plan(workers: workers, target: 2, generation: 1)
        #expect(first.spawn == 1)
        #expect(first.drain.isEmpty)

        let withReplacement = workers + [worker(12, phase: .ready, spawnedAt: 5)]
        let second = SupervisionPolicy.plan(workers: withReplacement, target: 2, generation: 1)
        #expect(second.spawn == 0)
        #expect(second.drain.map(\.pid) == [10])
        #expect(second.drain.first?.reason == .retired)
    }

    @Test func surplusDrainsOldestFirst() {
        let workers = [worker(10, spawnedAt: 3), worker(11, spawnedAt: 1), worker(12, spawnedAt: 2)]
        let plan = SupervisionPolicy.plan(workers: workers, target: 2, generation: 1)
        #expect(plan.spawn == 0)
        #expect(plan.drain.map(\.pid) == [11])
        #expect(plan.drain.first?.reason == .surplus)
    }

    @Test func drainingWorkersDoNotCount() {
        let workers = [worker(10, phase: .draining(since: 0)), worker(11)]
        let plan = SupervisionPolicy.plan(workers: workers, target: 2, generation: 1)
        #expect(plan.spawn == 1)
        #expect(plan.drain.isEmpty)
    }

    // MARK: - stale workers

    var timeouts: SupervisionTimeouts {
        SupervisionTimeouts(request: 30 * second, boot: 10 * second, graceful: 20 * second, abortGrace: 2 * second)
    }

    @Test func healthyWorkerIsLeftAlone() {
        let busy = worker(10, busySince: 100 * second, heartbeat: 100 * second)
        #expect(SupervisionPolicy.staleAction(for: busy, now: 120 * second, timeouts: timeouts) == .none)
    }

    @Test func requestOverTimeoutIsAborted() {
        let busy = worker(10, busySince: 100 * second, heartbeat: 100 * second)
        let action = SupervisionPolicy.staleAction(for: busy, now: 131 * second, timeouts: timeouts)
        #expect(action == .abortForRequestTimeout(seconds: 31))
    }

    @Test func zeroTimeoutDisablesRequestTimeout() {
        var noTimeout = timeouts
        noTimeout.request = 0
        let busy = worker(10, busySince: 0, heartbeat: 0)
        #expect(SupervisionPolicy.staleAction(for: busy, now: 1000 * second, timeouts: noTimeout) == .none)
    }

    @Test func missedHeartbeatOutsideRequestIsAborted() {
        let stuck = worker(10, heartbeat: 10 * second)
        let action = SupervisionPolicy.staleAction(for: stuck, now: 45 * second, timeouts: timeouts)
        #expect(action == .abortForMissedHeartbeat(seconds: 35))
    }

    @Test func abortEscalatesToKill() {
        let aborted = worker(10, busySince: 0, abortSentAt: 50 * second)
        #expect(SupervisionPolicy.staleAction(for: aborted, now: 51 * second, timeouts: timeouts) == .none)
        #expect(SupervisionPolicy.staleAction(for: aborted, now: 52 * second, timeouts: timeouts) == .killAfterAbort)
    }

    @Test func bootTimeoutKills() {
        let booting = worker(10, phase: .booting, spawnedAt: 0)
        #expect(SupervisionPolicy.staleAction(for: booting, now: 9 * second, timeouts: timeouts) == .none)
        #expect(
            SupervisionPolicy.staleAction(for: booting, now: 11 * second, timeouts: timeouts)
                == .killBootTimeout(seconds: 11))
    }

    @Test func drainingPastGracefulTimeoutIsKilled() {
        let draining = worker(10, phase: .draining(since: 0))
        #expect(SupervisionPolicy.staleAction(for: draining, now: 21 * second, timeouts: timeouts) == .none)
        #expect(
            SupervisionPolicy.staleAction(for: draining, now: 23 * second, timeouts: timeouts)
                == .killGracefulTimeout(seconds: 23))
    }

    // MARK: - exits

    func judge(
        _ termination: SupervisionPolicy.Termination, sent: SupervisionPolicy.SentSignal = .none, ready: Bool = true
    )
        -> SupervisionPolicy.ExitVerdict
    {
        SupervisionPolicy.judgeExit(
            pid: 42, termination: termination, sent: sent, wasReady: ready, bootFailureCode: 3)
    }

    @Test func bootFailureHalts() {
        let verdict = judge(.exited(code: 3), ready: false)
        #expect(verdict.haltCode == 3)
        #expect(verdict.level == .critical)
        #expect(verdict.message.contains("failed to boot"))
    }

    @Test func exitCode3AfterServingIsNotABootFailure() {
        #expect(judge(.exited(code: 3), ready: true).haltCode == nil)
    }

    @Test func killNotSentByUsSuggestsOutOfMemory() {
        let verdict = judge(.signaled(signal: 9, coreDumped: false))
        #expect(verdict.level == .error)
        #expect(verdict.message.contains("perhaps out of memory"))
        #expect(verdict.haltCode == nil)
    }

    @Test func killWeSentIsAWarning() {
        #expect(judge(.signaled(signal: 9, coreDumped: false), sent: .kill).level == .warning)
        #expect(judge(.signaled(signal: 6, coreDumped: true), sent: .abort).level == .warning)
    }

    @Test func trapIsExplained() {
        let verdict = judge(.signaled(signal: 4, coreDumped: false))
        #expect(verdict.level == .error)
        #expect(verdict.message.contains("Swift runtime trap"))
    }

    @Test func orderlyExitsAreInfo() {
        #expect(judge(.exited(code: 0), sent: .term).level == .info)
        #expect(judge(.signaled(signal: 15, coreDumped: false), sent: .term).level == .info)
        #expect(judge(.exited(code: 0)).level == .warning)
        #expect(judge(.exited(code: 1)).level == .error)
    }
}

@Suite struct MemoryFiguresTests {
    static let rollup = """
        55d0c0a2b000-7ffd5b7f0000 ---p 00000000 00:00 0                          [rollup]
        Rss:               15976 kB
        Pss:                4321 kB
        Shared_Clean:       9800 kB
        Shared_Dirty:       2100 kB
        Private_Clean:       120 kB
        Private_Dirty:      3956 kB
        Referenced:        15976 kB
        Anonymous:          4100 kB
        Private_Hugetlb:       0 kB
        Swap:                  0 kB

        """

    @Test func ownMemoryIsThePrivatePages() {
        #expect(MemoryFigures.ownKiB(smapsRollup: Self.rollup) == 4076)
        #expect(MemoryFigures.ownKiB(smapsRollup: "Rss: 10 kB\n") == nil)
    }

    @Test func overTheLimitOnlyWhenThereIsOne() {
        #expect(MemoryFigures.isOver(kib: 600 * 1024, limitKiB: 512 * 1024))
        #expect(!MemoryFigures.isOver(kib: 500 * 1024, limitKiB: 512 * 1024))
        #expect(!MemoryFigures.isOver(kib: 600 * 1024, limitKiB: 0))
    }
}
