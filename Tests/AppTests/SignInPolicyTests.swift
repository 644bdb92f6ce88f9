import Testing

@testable import RequestTrackerUtilsApp

@Suite struct SignInPolicyTests {
    @Test func sessionsExpireWhenIdleOrTooOldAndAreTouchedSparingly() {
        let policy = SessionPolicy(idleTimeout: 3600, absoluteTimeout: 43_200)
        #expect(policy.verdict(createdAt: 0, seenAt: 0, now: 30) == .valid(touch: false))
        #expect(policy.verdict(createdAt: 0, seenAt: 0, now: 60) == .valid(touch: true))
        #expect(policy.verdict(createdAt: 0, seenAt: 0, now: 3600) == .expired)
        #expect(policy.verdict(createdAt: 0, seenAt: 43_000, now: 43_199) == .valid(touch: true))
        #expect(policy.verdict(createdAt: 0, seenAt: 43_190, now: 43_200) == .expired)
    }

    @Test func aShortIdleTimeoutIsTouchedOftenEnoughToBeKept() {
        let policy = SessionPolicy(idleTimeout: 8, absoluteTimeout: 100)
        #expect(policy.touchInterval == 2)
        #expect(policy.verdict(createdAt: 0, seenAt: 0, now: 1) == .valid(touch: false))
        #expect(policy.verdict(createdAt: 0, seenAt: 0, now: 2) == .valid(touch: true))
        #expect(SessionPolicy(idleTimeout: 2, absoluteTimeout: 100).touchInterval == 1)
    }

    @Test func publicPathsAndWhatATeacherMayOpen() {
        for path in ["/login", "/healthz", "/readyz", "/hello", "/static/app.css"] {
            #expect(SignInRoutes.isPublic(path))
        }
        for path in ["/", "/tags", "/api/tags", "/logout", "/loginx", "/static", "/echo"] {
            #expect(!SignInRoutes.isPublic(path))
        }
        #expect(SignInRoutes.isPublic("/echo", testRoutes: true))
        #expect(SignInRoutes.teacherMayOpen("/") && SignInRoutes.teacherMayOpen("/logout"))
        #expect(!SignInRoutes.teacherMayOpen("/tags") && !SignInRoutes.teacherMayOpen("/checkins.csv"))
    }

    @Test func throttleCountsFailuresInTheWindowOnly() {
        let policy = ThrottlePolicy(limit: 3, window: 100)
        #expect(policy.wait(failures: [], now: 10) == nil)
        #expect(policy.wait(failures: [1, 2], now: 10) == nil)
        #expect(policy.wait(failures: [3, 1, 2], now: 10) == 91)
        #expect(policy.wait(failures: [1, 2, 3], now: 100) == 1)
        #expect(policy.wait(failures: [1, 2, 3], now: 101) == nil)
        #expect(policy.wait(failures: [1, 50, 60, 70], now: 101) == 49)
    }

    @Test func onlyLocalPathsAreRedirectTargets() {
        #expect(LocalRedirect.target("/tags?page=2") == "/tags?page=2")
        for hostile in [
            nil, "", "//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "tags",
            "/a b", "/\r\nSet-Cookie: x=1",
        ] {
            #expect(LocalRedirect.target(hostile) == "/", "\(hostile ?? "nil")")
        }
    }
}
