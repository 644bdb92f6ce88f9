import Testing

@testable import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// Job workers in the master's bookkeeping: kept to their own count, timed out by
/// `job_timeout` rather than `timeout`, left to finish their job on reload, and the job a dead
/// job worker was running handed to its replacement.
@Suite struct JobWorkerStateTests {
    let second = ArbiterStateTests.second
    let helpers = ArbiterStateTests()
    typealias State = ArbiterState<TestConfiguration>

    func configuration(jobs: Int = 1, name: String = "first") -> TestConfiguration {
        var configuration = TestConfiguration(workers: 1, jobWorkers: jobs, name: name)
        configuration.timeouts.job = 600 * second
        return configuration
    }

    /// One HTTP worker (pid 100) and one job worker (pid 900), both ready.
    func serving() -> State {
        var state = State(configuration: configuration(), bootFailureCode: 3)
        let first = state.handle(.tick(readings: [:]), now: 0)
        #expect(helpers.spawns(first) == [1] && helpers.spawns(first, kind: .job) == [1])
        _ = state.handle(.spawned(pid: 100, slot: 0), now: 0)
        let booted = state.handle(.spawned(pid: 900, slot: 1, kind: .job), now: 0)
        #expect(helpers.logs(booted) == ["Booting job worker with pid: 900"])
        _ = state.handle(.tick(readings: helpers.ready([100, 900])), now: second)
        return state
    }

    func running(job: String, since: Int64) -> SlotReading {
        SlotReading(
            serving: true, request: InFlightRequest(start: since, method: "JOB", path: "prefetch", requestID: job))
    }

    @Test func aJobIsTimedOutByJobTimeoutNotTheRequestTimeout() {
        var state = serving()
        let readings: [Int32: SlotReading] = [
            100: SlotReading(serving: true, heartbeat: 100 * second), 900: running(job: "7", since: second),
        ]
        #expect(helpers.sends(state.handle(.tick(readings: readings), now: 100 * second)).isEmpty)
        var later = readings
        later[100] = SlotReading(serving: true, heartbeat: 602 * second)
        let late = state.handle(.tick(readings: later), now: 602 * second)
        #expect(helpers.sends(late).map(\.pid) == [900] && helpers.sends(late).first?.signal == SIGABRT)
        #expect(
            helpers.logs(late, .error) == [
                "JOB TIMEOUT: job worker 900 spent 601.0s on job 7 (prefetch), over the 600.0s job_timeout; sending SIGABRT"
            ])
        let died = state.handle(
            .exited(pid: 900, termination: .signaled(signal: SIGABRT, coreDumped: false)), now: 603 * second)
        #expect(helpers.logs(died, .warning).first?.hasPrefix("job worker 900 was killed by SIGABRT") == true)
        #expect(
            state.orphanedJobs == [
                OrphanedJob(
                    id: "7", kind: "prefetch", reason: "it ran past job_timeout (600.0s); job worker 900 was killed")
            ])
    }

    @Test func aDeadJobWorkersJobGoesToItsReplacement() {
        var state = serving()
        _ = state.handle(.tick(readings: [900: running(job: "12", since: second)]), now: 2 * second)
        let died = state.handle(
            .exited(pid: 900, termination: .signaled(signal: SIGKILL, coreDumped: false)), now: 3 * second)
        #expect(
            helpers.logs(died, .error) == [
                "job worker 900 was killed by SIGKILL, which the master did not send (perhaps out of memory? see dmesg "
                    + "or journalctl -k) while running job 12 (prefetch); replacing it"
            ])
        #expect(state.orphanedJobs.map(\.id) == ["12"])
        #expect(state.orphanedJobs.first?.reason.hasPrefix("job worker 900 was killed by SIGKILL") == true)
        let next = state.handle(.tick(readings: [100: SlotReading(serving: true)]), now: 4 * second)
        #expect(helpers.spawns(next, kind: .job) == [1] && helpers.spawns(next).isEmpty)
        _ = state.handle(.spawned(pid: 901, slot: 1, kind: .job), now: 4 * second)
        #expect(state.orphanedJobs.isEmpty, "handed to job worker 901")
    }

    @Test func aJobWorkerKilledBetweenTwoTicksStillLeavesItsJob() {
        var state = serving()
        _ = state.handle(
            .exited(
                pid: 900, termination: .signaled(signal: SIGKILL, coreDumped: false),
                lastReading: running(job: "4", since: second)), now: 2 * second)
        #expect(state.orphanedJobs.map(\.id) == ["4"])
    }

    @Test func anIdleJobWorkerThatExitsLeavesNoOrphan() {
        var state = serving()
        _ = state.handle(.exited(pid: 900, termination: .exited(code: 1)), now: 3 * second)
        #expect(state.orphanedJobs.isEmpty)
    }

    @Test func reloadLetsTheRunningJobFinish() {
        var state = serving()
        _ = state.handle(.signal(SIGHUP), now: 2 * second)
        _ = state.handle(.reloadResolved(configuration(name: "second")), now: 2 * second)
        let busy: [Int32: SlotReading] = [100: SlotReading(serving: true), 900: running(job: "3", since: second)]
        let fresh = state.handle(.tick(readings: busy), now: 3 * second)
        #expect(helpers.spawns(fresh) == [2] && helpers.spawns(fresh, kind: .job) == [2])
        _ = state.handle(.spawned(pid: 200, slot: 2), now: 3 * second)
        _ = state.handle(.spawned(pid: 910, slot: 3, kind: .job), now: 3 * second)
        var readings = busy
        readings[200] = SlotReading(serving: true)
        readings[910] = SlotReading(serving: true)
        let drained = state.handle(.tick(readings: readings), now: 4 * second)
        #expect(helpers.sends(drained).map(\.pid) == [100, 900])
        #expect(
            helpers.logs(drained).contains(
                "Stopping job worker 900 gracefully (after its job): replaced by generation 2"))
        _ = state.handle(.exited(pid: 100, termination: .exited(code: 0)), now: 5 * second)
        readings[100] = nil
        // Long past graceful_timeout (30 s): the job runs on; only job_timeout would end it.
        let later = state.handle(.tick(readings: readings), now: 300 * second)
        #expect(helpers.sends(later).isEmpty)
        readings[900] = SlotReading(serving: true)  // the job ended
        _ = state.handle(.tick(readings: readings), now: 301 * second)
        let exited = state.handle(.exited(pid: 900, termination: .exited(code: 0)), now: 302 * second)
        #expect(helpers.logs(exited) == ["job worker 900 exited"])
        #expect(state.orphanedJobs.isEmpty)
    }

    @Test func stopGivesJobWorkersGracefulTimeoutThenKills() {
        var state = serving()
        let stop = state.handle(.signal(SIGTERM), now: 2 * second)
        #expect(
            helpers.sends(stop).map(\.pid) == [100, 900] && helpers.sends(stop).allSatisfy { $0.signal == SIGTERM })
        _ = state.handle(.exited(pid: 100, termination: .exited(code: 0)), now: 3 * second)
        let running: [Int32: SlotReading] = [900: running(job: "5", since: second)]
        #expect(helpers.sends(state.handle(.tick(readings: running), now: 20 * second)).isEmpty)
        let late = state.handle(.tick(readings: running), now: 34 * second)
        #expect(helpers.sends(late).map(\.signal) == [SIGKILL])
        #expect(
            helpers.logs(late, .warning) == [
                "job worker 900 (running job 5) did not stop in time (graceful_timeout); sending SIGKILL"
            ])
    }

    @Test func ttinAndTtouCountOnlyHTTPWorkers() {
        var state = serving()
        _ = state.handle(.signal(SIGTTIN), now: 2 * second)
        let more = state.handle(.tick(readings: helpers.ready([100, 900])), now: 3 * second)
        #expect(helpers.spawns(more) == [1] && helpers.spawns(more, kind: .job).isEmpty)
    }
}
