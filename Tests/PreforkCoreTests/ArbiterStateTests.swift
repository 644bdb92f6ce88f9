import Testing

@testable import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// A configuration for the bookkeeping, named so a test can see which one is in force.
struct TestConfiguration: SupervisedConfiguration, Equatable {
    var workers: Int
    var jobWorkers = 0
    var name = "first"
    var timeouts = SupervisionTimeouts(
        request: 30 * ArbiterStateTests.second, boot: 10 * ArbiterStateTests.second,
        graceful: 30 * ArbiterStateTests.second, abortGrace: 2 * ArbiterStateTests.second)
}

@Suite struct ArbiterStateTests {
    static let second: Int64 = 1_000_000_000
    let second = ArbiterStateTests.second
    typealias State = ArbiterState<TestConfiguration>

    // MARK: - Helpers

    /// A master whose `count` workers (pids 100, 101, …) of generation 1 serve.
    func serving(_ count: Int) -> State {
        var state = State(configuration: TestConfiguration(workers: count), bootFailureCode: 3)
        let first = state.handle(.tick(readings: [:]), now: 0)
        #expect(spawns(first) == [UInt64](repeating: 1, count: count))
        for index in 0..<count { _ = state.handle(.spawned(pid: Int32(100 + index), slot: index), now: 0) }
        _ = state.handle(.tick(readings: ready(state.workers.keys)), now: second)
        #expect(state.workers.values.allSatisfy { $0.phase == .ready })
        return state
    }

    func ready(_ pids: some Sequence<Int32>, retiring: Set<Int32> = []) -> [Int32: SlotReading] {
        Dictionary(
            uniqueKeysWithValues: pids.map { ($0, SlotReading(serving: true, retireRequested: retiring.contains($0))) })
    }

    func spawns(_ actions: [ArbiterAction], kind: WorkerRecord.Kind = .http) -> [UInt64] {
        actions.compactMap { action -> UInt64? in
            guard case .spawn(let generation, kind) = action else { return nil }
            return generation
        }
    }

    func sends(_ actions: [ArbiterAction]) -> [(signal: Int32, pid: Int32, reason: SignalReason)] {
        actions.compactMap { action -> (signal: Int32, pid: Int32, reason: SignalReason)? in
            guard case .send(let signal, let pid, let reason) = action else { return nil }
            return (signal, pid, reason)
        }
    }

    func logs(_ actions: [ArbiterAction], _ level: LogLine.Level? = nil) -> [String] {
        actions.compactMap { action -> String? in
            guard case .log(let line) = action, level == nil || line.level == level else { return nil }
            return line.message
        }
    }

    // MARK: - Reload (HUP)

    @Test func reloadStartsNewGenerationThenDrainsOld() {
        var state = serving(2)
        let hup = state.handle(.signal(SIGHUP), now: 2 * second)
        #expect(
            hup == [
                .log(LogLine(.info, "Handling signal: hup; reloading configuration")), .notify(.reloading), .reload,
            ])

        let resolved = state.handle(.reloadResolved(TestConfiguration(workers: 2, name: "second")), now: 2 * second)
        #expect(resolved.first == .applyConfiguration)
        #expect(logs(resolved) == ["Configuration reloaded; starting 2 worker(s) of generation 2"])
        #expect(state.generation == 2 && state.configuration.name == "second")
        #expect(state.pendingReload?.previousGeneration == 1)

        let first = state.handle(.tick(readings: ready([100, 101])), now: 3 * second)
        #expect(spawns(first) == [2, 2])
        #expect(sends(first).isEmpty, "old workers serve until the new generation is ready")
        _ = state.handle(.spawned(pid: 200, slot: 2), now: 3 * second)
        _ = state.handle(.spawned(pid: 201, slot: 3), now: 3 * second)

        let booting = state.handle(.tick(readings: ready([100, 101])), now: 4 * second)
        #expect(sends(booting).isEmpty && spawns(booting).isEmpty)

        let served = state.handle(.tick(readings: ready([100, 101, 200, 201])), now: 5 * second)
        #expect(sends(served).map(\.pid) == [100, 101])
        #expect(sends(served).allSatisfy { $0.signal == SIGTERM && $0.reason == .drain(.replacedByNewGeneration) })
        #expect(logs(served, .info).contains("Reload complete: generation 2 is serving"))
        #expect(served.contains(.notify(.ready(status: nil))))
        #expect(state.pendingReload == nil)
        #expect(state.workers[100]?.sent == .term && state.workers[100]?.isDraining == true)

        let exited = state.handle(.exited(pid: 100, termination: .exited(code: 0)), now: 6 * second)
        #expect(logs(exited, .info) == ["worker 100 exited"])
    }

    @Test func reloadWhoseWorkersCannotBootIsAbandoned() {
        var state = serving(2)
        _ = state.handle(.signal(SIGHUP), now: 2 * second)
        _ = state.handle(.reloadResolved(TestConfiguration(workers: 3, name: "broken")), now: 2 * second)
        #expect(spawns(state.handle(.tick(readings: ready([100, 101])), now: 3 * second)) == [2, 2, 2])
        for pid: Int32 in [200, 201, 202] {
            _ = state.handle(.spawned(pid: pid, slot: Int(pid) - 198), now: 3 * second)
        }

        let failed = state.handle(.exited(pid: 200, termination: .exited(code: 3)), now: 4 * second)
        #expect(logs(failed, .critical).first?.contains("of the reloaded configuration failed to boot") == true)
        #expect(sends(failed).map(\.pid) == [201, 202])
        #expect(sends(failed).allSatisfy { $0.signal == SIGKILL && $0.reason == .abandonedReload })
        #expect(failed.contains(.applyConfiguration))
        #expect(
            failed.contains(
                .notify(
                    .ready(status: "reload failed: new workers could not boot; serving with the previous configuration")
                )))
        #expect(state.generation == 1 && state.configuration.name == "first" && state.targetWorkers == 2)
        #expect(state.abandonedGenerations == [2] && state.pendingReload == nil && state.haltCode == nil)

        let killed = state.handle(
            .exited(pid: 201, termination: .signaled(signal: SIGKILL, coreDumped: false)), now: 4 * second)
        #expect(logs(killed) == ["worker 201 of the abandoned reload exited"])
        let alsoFailed = state.handle(.exited(pid: 202, termination: .exited(code: 3)), now: 4 * second)
        #expect(logs(alsoFailed) == ["worker 202 of the abandoned reload exited"])
        #expect(state.haltCode == nil)

        let after = state.handle(.tick(readings: ready([100, 101])), now: 5 * second)
        #expect(after.isEmpty, "the old generation keeps serving: nothing to start, drain or halt")
        #expect(state.workers.keys.sorted() == [100, 101])
        // The next reload gets a generation number never used before.
        _ = state.handle(.signal(SIGHUP), now: 6 * second)
        _ = state.handle(.reloadResolved(TestConfiguration(workers: 2, name: "fixed")), now: 6 * second)
        #expect(state.generation == 3)
    }

    @Test func refusedReloadChangesNothing() {
        var state = serving(2)
        _ = state.handle(.signal(SIGHUP), now: 2 * second)
        let refused = state.handle(.reloadRefused(reason: "setting 'workers': bad"), now: 2 * second)
        #expect(
            logs(refused, .error) == [
                "reload refused, still serving with the previous configuration: setting 'workers': bad"
            ])
        #expect(refused.contains(.notify(.ready(status: "reload refused: setting 'workers': bad"))))
        #expect(state.generation == 1 && state.pendingReload == nil)
        #expect(state.handle(.tick(readings: ready([100, 101])), now: 3 * second).isEmpty)
    }

    // MARK: - TTIN / TTOU

    @Test func ttinAddsAWorkerAndTtouDrainsTheOldest() {
        var state = serving(2)
        #expect(logs(state.handle(.signal(SIGTTIN), now: 2 * second)) == ["Handling signal: ttin; workers 2 -> 3"])
        #expect(spawns(state.handle(.tick(readings: ready([100, 101])), now: 2 * second)) == [1])
        _ = state.handle(.spawned(pid: 102, slot: 2), now: 2 * second)
        #expect(state.handle(.tick(readings: ready([100, 101, 102])), now: 3 * second).count == 1)  // "is ready"

        #expect(logs(state.handle(.signal(SIGTTOU), now: 4 * second)) == ["Handling signal: ttou; workers 3 -> 2"])
        let drained = state.handle(.tick(readings: ready([100, 101, 102])), now: 4 * second)
        #expect(sends(drained).map(\.pid) == [100])
        #expect(sends(drained).first?.reason == .drain(.surplus))
        #expect(logs(drained) == ["Stopping worker 100 gracefully: fewer workers wanted"])
    }

    @Test func ttouNeverGoesBelowOneWorker() {
        var state = serving(1)
        #expect(logs(state.handle(.signal(SIGTTOU), now: 2 * second)) == ["Handling signal: ttou; already at 1 worker"])
        #expect(state.targetWorkers == 1)
    }

    // MARK: - Stopping

    @Test func gracefulStopKillsWhatOutlivesItsDeadline() {
        var state = serving(2)
        let term = state.handle(.signal(SIGTERM), now: 10 * second)
        #expect(logs(term) == ["Handling signal: term; shutting down gracefully"])
        #expect(term.contains(.notify(.stopping(extendMicros: 31_000_000 + 5_000_000))))
        #expect(term.contains(.closeListeners))
        #expect(sends(term).map(\.pid) == [100, 101])
        #expect(sends(term).allSatisfy { $0.signal == SIGTERM && $0.reason == .stop })
        #expect(state.mode == .stopping(graceful: true, deadline: 41 * second))
        #expect(state.handle(.signal(SIGTERM), now: 11 * second).isEmpty, "a second TERM changes nothing")
        #expect(state.handle(.signal(SIGHUP), now: 11 * second).isEmpty, "no reload while stopping")

        let exited = state.handle(.exited(pid: 100, termination: .exited(code: 0)), now: 12 * second)
        #expect(logs(exited, .info) == ["worker 100 exited"])
        #expect(state.handle(.tick(readings: [:]), now: 40 * second).isEmpty)

        let late = state.handle(.tick(readings: [:]), now: 41 * second)
        #expect(logs(late, .warning) == ["worker 101 did not stop in time (graceful_timeout); sending SIGKILL"])
        #expect(sends(late).map(\.signal) == [SIGKILL] && sends(late).first?.reason == .stopTimeout)
        let killed = state.handle(
            .exited(pid: 101, termination: .signaled(signal: SIGKILL, coreDumped: false)), now: 41 * second)
        #expect(logs(killed, .warning) == ["worker 101 was killed by SIGKILL after a timeout"])
        #expect(state.handle(.tick(readings: [:]), now: 42 * second) == [.finishStop])
    }

    @Test func harderSignalDuringGracefulStopStopsNow() {
        var state = serving(2)
        _ = state.handle(.signal(SIGTERM), now: 10 * second)
        let int = state.handle(.signal(SIGINT), now: 11 * second)
        #expect(logs(int) == ["Handling signal: int; shutting down now"])
        #expect(sends(int).map(\.signal) == [SIGQUIT, SIGQUIT])
        #expect(state.mode == .stopping(graceful: false, deadline: 12 * second))
        #expect(state.handle(.signal(SIGQUIT), now: 11 * second).isEmpty, "already stopping fast")
        let stopped = state.handle(
            .exited(pid: 100, termination: .signaled(signal: SIGQUIT, coreDumped: false)), now: 11 * second)
        #expect(logs(stopped) == ["worker 100 stopped by SIGQUIT"])
        let late = state.handle(.tick(readings: [:]), now: 12 * second)
        #expect(logs(late) == ["worker 101 did not stop in time (quit); sending SIGKILL"])
    }

    // MARK: - Halting and replacing

    @Test func bootFailureOutsideReloadHalts() {
        var state = State(configuration: TestConfiguration(workers: 2), bootFailureCode: 3)
        #expect(spawns(state.handle(.tick(readings: [:]), now: 0)) == [1, 1])
        _ = state.handle(.spawned(pid: 100, slot: 0), now: 0)
        _ = state.handle(.spawned(pid: 101, slot: 1), now: 0)
        let failed = state.handle(.exited(pid: 100, termination: .exited(code: 3)), now: second)
        #expect(
            logs(failed, .critical) == ["worker 100 failed to boot; stopping (fix the error above, then start again)"])
        #expect(state.haltCode == 3)
        let halt = state.handle(.tick(readings: [:]), now: second)
        #expect(halt == [.send(signal: SIGKILL, pid: 101, reason: .halt), .halt(code: 3)])
    }

    @Test func crashedWorkerIsReplaced() {
        var state = serving(2)
        let crashed = state.handle(
            .exited(pid: 101, termination: .signaled(signal: SIGILL, coreDumped: false)), now: 2 * second)
        #expect(logs(crashed, .error).first?.hasSuffix("overflow); replacing it") == true)
        #expect(spawns(state.handle(.tick(readings: ready([100])), now: 2 * second)) == [1])
    }

    @Test func maxRequestsWorkerIsReplacedBeforeItDrains() {
        var state = serving(2)
        let retiring = state.handle(.tick(readings: ready([100, 101], retiring: [100])), now: 2 * second)
        #expect(spawns(retiring) == [1] && sends(retiring).isEmpty)
        _ = state.handle(.spawned(pid: 102, slot: 2), now: 2 * second)
        let replaced = state.handle(.tick(readings: ready([100, 101, 102], retiring: [100])), now: 3 * second)
        #expect(sends(replaced).map(\.pid) == [100] && sends(replaced).first?.reason == .drain(.retired))
        #expect(
            logs(replaced, .info) == ["Stopping worker 100 gracefully: reached max_requests, replacement is serving"])
    }

    // MARK: - Timeouts and the one send path

    @Test func stuckRequestGetsAbortThenKillOnce() {
        var state = serving(1)
        let request = InFlightRequest(start: 2 * second, method: "GET", path: "/slow", requestID: "abc")
        let busy = [Int32(100): SlotReading(serving: true, request: request, heartbeat: 2 * second)]
        #expect(state.handle(.tick(readings: busy), now: 30 * second).isEmpty)
        let abort = state.handle(.tick(readings: busy), now: 33 * second)
        #expect(
            logs(abort, .error) == [
                "WORKER TIMEOUT: worker 100 spent 31.0s on GET /slow (request_id=abc), over the 30.0s timeout; sending SIGABRT"
            ])
        #expect(sends(abort).map(\.signal) == [SIGABRT] && sends(abort).first?.reason == .requestTimeout)
        #expect(state.workers[100]?.sent == .abort && state.workers[100]?.abortSentAt == 33 * second)
        let kill = state.handle(.tick(readings: busy), now: 35 * second)
        #expect(sends(kill).map(\.signal) == [SIGKILL] && sends(kill).first?.reason == .stillAliveAfterAbort)
        #expect(state.workers[100]?.sent == .kill)
        #expect(state.handle(.tick(readings: busy), now: 36 * second).isEmpty, "a killed worker is left to die")
    }

    @Test func bootTimeoutKills() {
        var state = State(configuration: TestConfiguration(workers: 1), bootFailureCode: 3)
        _ = state.handle(.tick(readings: [:]), now: 0)
        _ = state.handle(.spawned(pid: 100, slot: 0), now: 0)
        let late = state.handle(.tick(readings: [100: SlotReading()]), now: 11 * second)
        #expect(logs(late) == ["worker 100 did not boot within 11.0s (boot_timeout); sending SIGKILL"])
        #expect(sends(late).first?.reason == .bootTimeout)
    }

    @Test func usr1ReopensLogsEverywhere() {
        var state = serving(2)
        let usr1 = state.handle(.signal(SIGUSR1), now: 2 * second)
        #expect(usr1.first == .log(LogLine(.info, "Handling signal: usr1; reopening log files")))
        #expect(usr1.contains(.reopenLogs))
        #expect(sends(usr1).map(\.pid) == [100, 101] && sends(usr1).allSatisfy { $0.signal == SIGUSR1 })
        #expect(state.workers.values.allSatisfy { $0.sent == .none && $0.phase == .ready })
    }

    @Test func wakeSignalsDoNothing() {
        var state = serving(1)
        #expect(state.handle(.signal(SIGCHLD), now: 2 * second).isEmpty)
        #expect(state.handle(.signal(SIGWINCH), now: 2 * second).isEmpty)
    }
}
