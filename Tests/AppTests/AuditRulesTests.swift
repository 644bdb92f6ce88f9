import Testing

@testable import RequestTrackerUtilsApp

@Suite struct AuditRulesTests {
    @Test func anAdvisorIsTheTeachersNameOrTheirEmailAddress() {
        #expect(AuditRules.advises(advisor: "msmith", teacher: "msmith"))
        #expect(AuditRules.advises(advisor: " MSmith ", teacher: "msmith"))
        #expect(AuditRules.advises(advisor: "msmith@school.example", teacher: "MSmith"))
        #expect(!AuditRules.advises(advisor: "msmith2", teacher: "msmith"))
        #expect(!AuditRules.advises(advisor: "smith@school.example", teacher: "msmith"))
        #expect(!AuditRules.advises(advisor: "", teacher: ""))
        #expect(!AuditRules.advises(advisor: "Smith, Mary", teacher: "msmith"))
    }

    @Test func sessionsGoFromOpenToLockedAndBackAndCloseForGood() {
        #expect(AuditRules.transitions(from: .open) == [.locked, .closed])
        #expect(AuditRules.transitions(from: .locked) == [.open, .closed])
        #expect(AuditRules.transitions(from: .closed).isEmpty)
        #expect(AuditRules.acceptsMarks(.open))
        #expect(!AuditRules.acceptsMarks(.locked) && !AuditRules.acceptsMarks(.closed))
    }
}

@Suite struct JobGroupTests {
    func part(_ id: Int, _ state: JobStore.State, done: Int, total: Int, message: String = "") -> JobStore.Status {
        JobStore.Status(
            id: id, kind: "part", state: state.rawValue, done: done, total: total, attempts: 1, message: message,
            parts: 0, createdBy: "t", createdAt: "2026-12-02T00:00:00Z",
            finishedAt: state == .done || state == .failed ? "2026-12-02T00:0\(id):00Z" : nil)
    }

    func group() -> JobStore.Status {
        JobStore.Status(
            id: 1, kind: "group", state: "group", done: 0, total: 50, attempts: 0, message: "", parts: 0,
            createdBy: "t", createdAt: "2026-12-02T00:00:00Z", finishedAt: nil)
    }

    @Test func aGroupIsQueuedThenRunningThenDoneWithItsPartsFigures() {
        var status = group()
        JobStore.summarize(
            &status, parts: [part(2, .queued, done: 0, total: 25), part(3, .queued, done: 0, total: 25)])
        #expect(status.state == "queued" && status.parts == 2 && status.total == 50)
        JobStore.summarize(
            &status, parts: [part(2, .running, done: 10, total: 25), part(3, .queued, done: 0, total: 25)])
        #expect(status.state == "running" && status.done == 10)
        JobStore.summarize(&status, parts: [part(2, .done, done: 25, total: 25), part(3, .done, done: 25, total: 25)])
        #expect(status.state == "done" && status.done == 50 && status.message.isEmpty)
        #expect(status.finishedAt == "2026-12-02T00:03:00Z")
    }

    @Test func aGroupFailsOnceEveryPartEndedAndSaysWhichPartFailed() {
        var status = group()
        let failed = part(3, .failed, done: 5, total: 25, message: "Request Tracker did not answer")
        JobStore.summarize(&status, parts: [part(2, .running, done: 10, total: 25), failed])
        #expect(status.state == "running")
        JobStore.summarize(&status, parts: [part(2, .done, done: 25, total: 25), failed])
        #expect(status.state == "failed" && status.message == "part 3 failed: Request Tracker did not answer")
    }

    @Test func aRetryIsSaidWhileTheGroupRuns() {
        var status = group()
        JobStore.summarize(
            &status,
            parts: [part(2, .queued, done: 3, total: 25, message: "retrying: job worker 9 was killed by SIGKILL")])
        #expect(status.message == "retrying: job worker 9 was killed by SIGKILL")
    }
}
