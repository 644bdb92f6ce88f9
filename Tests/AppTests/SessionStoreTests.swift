import Testing

@testable import RequestTrackerUtilsApp

#if canImport(Glibc)
    import Glibc
#endif

/// Sessions, accounts and the sign-in throttle on a real SQLite file (the same stores run on
/// PostgreSQL in the integration tests).
@Suite struct SessionStoreTests {
    private final class Scratch {
        let path = "/tmp/session-tests-\(UInt64.random(in: 0...UInt64.max)).sqlite3"
        let database: AppDatabase
        init() throws {
            database = try AppDatabase.open(path: path)
            _ = try Migrator(database: database).migrate()
        }
        deinit { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    }

    @Test func aWorkersCachedSessionFollowsChangesMadeByAnotherProcess() throws {
        let scratch = try Scratch()
        var accounts = AccountStore(database: scratch.database)
        accounts.iterations = 1000
        let bob = try accounts.addLocal("bob", role: .tech, password: "correct horse battery")
        let worker = SessionStore(
            database: scratch.database, policy: SessionPolicy(idleTimeout: 100, absoluteTimeout: 1000))
        let id = try worker.create(for: bob, now: 1000)
        #expect(try worker.find(id, now: 1001)?.account.role == .tech)
        #expect(try worker.find(id, now: 1002)?.account.role == .tech)  // from the cache
        // another connection (another worker, `user disable` on the command line) changes it
        let elsewhere = AccountStore(database: try AppDatabase.open(path: scratch.path))
        try elsewhere.setDisabled("bob", true)
        #expect(try worker.find(id, now: 1003) == nil)
        try elsewhere.setDisabled("bob", false)
        #expect(try worker.find(id, now: 1004) == nil)  // disabling ended its sessions
        let again = try worker.create(for: bob, now: 1005)
        #expect(try worker.find(again, now: 1006) != nil)
        try SessionStore(database: try AppDatabase.open(path: scratch.path), policy: worker.policy).end(again)
        #expect(try worker.find(again, now: 1007) == nil)
        // and the cache never outlives the policy: idle past the timeout is expired
        let third = try worker.create(for: bob, now: 2000)
        #expect(try worker.find(third, now: 2001) != nil)
        #expect(try worker.find(third, now: 2101) == nil)
    }

    @Test func aSessionLastsUntilIdleOrSignOutAndFollowsItsAccount() throws {
        let scratch = try Scratch()
        var accounts = AccountStore(database: scratch.database)
        accounts.iterations = 1000
        let alice = try accounts.addLocal("Alice", role: .tech, password: "correct horse battery")
        #expect(try accounts.verifyLocal("alice", "correct horse battery") == alice)
        #expect(try accounts.verifyLocal("alice", "wrong horse battery") == nil)
        #expect(try accounts.verifyLocal("nobody", "correct horse battery") == nil)
        let sessions = SessionStore(
            database: scratch.database, policy: SessionPolicy(idleTimeout: 100, absoluteTimeout: 1000))
        let id = try sessions.create(for: alice, now: 1000)
        #expect(id.count == 64)
        #expect(try sessions.find(id, now: 1050)?.account.name == "alice")
        #expect(try sessions.find(String(id.reversed()), now: 1050) == nil)
        // used at 1050 (touched: a quarter of the idle timeout since the last record), so still
        // valid at 1140; at 1070 not touched again (only 20 s later)
        #expect(try sessions.find(id, now: 1070) != nil)
        #expect(try sessions.find(id, now: 1140) != nil)
        try accounts.setDisabled("alice", true)
        #expect(try sessions.find(id, now: 1160) == nil)
        try accounts.setDisabled("alice", false)
        let second = try sessions.create(for: alice, now: 2000)
        #expect(try sessions.find(second, now: 2100) == nil)  // idle 100 s
        let third = try sessions.create(for: alice, now: 3000)
        try sessions.end(third)
        #expect(try sessions.find(third, now: 3001) == nil)
    }

    @Test func tokensWorkUntilRevoked() throws {
        let scratch = try Scratch()
        var accounts = AccountStore(database: scratch.database)
        accounts.iterations = 1000
        _ = try accounts.addLocal("script", role: .teacher, password: "a long enough password")
        let token = try accounts.createToken("script")
        #expect(try accounts.account(forToken: token)?.role == .teacher)
        #expect(try accounts.account(forToken: token + "x") == nil)
        #expect(try accounts.revokeTokens("script", token: token) == 1)
        #expect(try accounts.account(forToken: token) == nil)
    }

    @Test func theThrottleHoldsASubjectAfterTheLimitWithinTheWindow() throws {
        let scratch = try Scratch()
        let throttle = SignInThrottle(database: scratch.database, policy: ThrottlePolicy(limit: 3, window: 60))
        let subjects = ["user:alice", "address:192.0.2.7"]
        #expect(try throttle.wait(subjects, now: 100) == nil)
        for second in [100, 101, 102] { try throttle.recordFailure(subjects, now: second) }
        #expect(try throttle.wait(subjects, now: 103) == 57)
        #expect(try throttle.wait(["user:bob"], now: 103) == nil)
        #expect(try throttle.wait(subjects, now: 160) == nil)
    }
}
