import Testing

@testable import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct UpgradeTests {
    struct Config: SupervisedConfiguration {
        var workers = 2
        var jobWorkers = 1
        var timeouts = SupervisionTimeouts(request: 30_000_000_000, boot: 0, graceful: 30_000_000_000)
    }

    @Test func handoffRoundTripsAndRefusesWhatItDoesNotKnow() {
        var handoff = UpgradeHandoff(scoreboard: 5)
        handoff.previousBinary = 9
        handoff.previousCommand = 10
        handoff.newestGeneration = 4
        handoff.serverID = "123@1700000000"
        handoff.listeners = [
            .init(fd: 6, address: "127.0.0.1:8000", inherited: false),
            .init(fd: 3, address: "unix:/run/with space/s.sock", inherited: true),
        ]
        handoff.metrics = .init(fd: 7, address: "[::1]:9100", inherited: false)
        handoff.workers = [
            .init(pid: 200, slot: 0, generation: 4, kind: .http, draining: false),
            .init(pid: 201, slot: 1, generation: 3, kind: .job, draining: true),
        ]
        #expect(UpgradeHandoff.decode(handoff.encoded()) == .success(handoff))
        var rollback = handoff
        rollback.rollback = true
        #expect(UpgradeHandoff.decode(rollback.encoded()) == .success(rollback))
        #expect(throws: UpgradeHandoffError.self) { try UpgradeHandoff.decode("prefork-upgrade 2\nscoreboard 5").get() }
        #expect(throws: UpgradeHandoffError.self) {
            try UpgradeHandoff.decode("prefork-upgrade 1\nscoreboard 5\nworker 1 0 1 http sleeping").get()
        }
        #expect(throws: UpgradeHandoffError.self) { try UpgradeHandoff.decode("scoreboard 5").get() }
    }

    @Test func theExecutableIsThePathTheServerWasStartedAs() {
        let none: (String) -> Bool = { _ in false }
        #expect(
            ExecutablePath.resolve(argv0: "/usr/bin/app", directory: "/srv", path: nil, isExecutable: none)
                == "/usr/bin/app")
        #expect(
            ExecutablePath.resolve(argv0: "./bin/app", directory: "/srv", path: nil, isExecutable: none)
                == "/srv/bin/app")
        #expect(
            ExecutablePath.resolve(
                argv0: "app", directory: "/srv", path: "/nope:/opt/app/bin", isExecutable: { $0 == "/opt/app/bin/app" })
                == "/opt/app/bin/app")
        #expect(ExecutablePath.resolve(argv0: "app", directory: "/srv", path: "/nope", isExecutable: none) == nil)
    }

    @Test func usr2ChecksThenExecutesAndAFailedCheckChangesNothing() {
        var state = ArbiterState(configuration: Config(), bootFailureCode: 3)
        _ = state.handle(.spawned(pid: 10, slot: 0), now: 0)
        var actions = state.handle(.signal(SIGUSR2), now: 1)
        #expect(actions.contains(.notify(.reloading)) && actions.contains(.checkUpgrade))
        #expect(state.handle(.signal(SIGHUP), now: 2).contains(.reload) == false)  // one change at a time
        actions = state.handle(.upgradeChecked(failure: "the new binary exited with code 1"), now: 3)
        #expect(actions.contains { if case .notify(.ready) = $0 { true } else { false } })
        #expect(state.upgrade == nil && state.workers.keys.sorted() == [10])
        _ = state.handle(.signal(SIGUSR2), now: 4)
        #expect(state.handle(.upgradeChecked(failure: nil), now: 5).contains(.execUpgrade))
    }

    @Test func theNewMasterAdoptsThenReplacesTheWorkersOrRollsBack() {
        var state = ArbiterState(configuration: Config(), bootFailureCode: 3)
        let adopted: [UpgradeHandoff.Worker] = [
            .init(pid: 10, slot: 0, generation: 2, kind: .http, draining: false),
            .init(pid: 11, slot: 1, generation: 2, kind: .http, draining: false),
            .init(pid: 12, slot: 2, generation: 2, kind: .job, draining: false),
        ]
        _ = state.adopt(adopted, newestGeneration: 2, rollback: false, now: 0)
        #expect(state.upgrade == .adopted && state.generation == 2 && state.workers.count == 3)
        _ = state.handle(.reloadResolved(Config()), now: 1)
        #expect(state.generation == 3)
        let spawns = state.handle(.tick(readings: [:]), now: 2).filter {
            if case .spawn(3, _) = $0 { true } else { false }
        }
        #expect(spawns.count == 3)
        _ = state.handle(.spawned(pid: 20, slot: 3), now: 3)
        // A new worker cannot boot: the reload is abandoned, then the previous binary runs again
        // once the new generation is gone; the adopted workers were never touched.
        var actions = state.handle(.exited(pid: 20, termination: .exited(code: 3)), now: 4)
        #expect(state.upgrade == .rollingBack)
        actions = state.handle(.tick(readings: [:]), now: 5)
        #expect(actions.contains(.rollbackUpgrade))
        #expect(!actions.contains { if case .send(_, let pid, _) = $0 { [10, 11, 12].contains(pid) } else { false } })

        var back = ArbiterState(configuration: Config(), bootFailureCode: 3)
        actions = back.adopt(adopted, newestGeneration: 3, rollback: true, now: 0)
        #expect(back.upgrade == nil && back.generation == 2 && back.newestGeneration == 3)
        #expect(actions.contains { if case .notify(.ready) = $0 { true } else { false } })
        #expect(!back.handle(.tick(readings: [:]), now: 1).contains { if case .spawn = $0 { true } else { false } })
    }
}
