import Testing

@testable import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SignalTableTests {
    @Test func masterAndWorkerSetsAreDerived() {
        #expect(
            Set(SignalTable.masterHandled) == [
                SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH,
            ])
        #expect(SignalTable.masterIgnored == [SIGPIPE])
        #expect(Set(SignalTable.workerHandled) == [SIGTERM, SIGINT, SIGQUIT, SIGUSR1])
        #expect(Set(SignalTable.workerIgnored) == [SIGHUP, SIGPIPE, SIGTTIN, SIGTTOU, SIGUSR2, SIGWINCH])
        // The master's handlers, and SIGABRT so a timed-out worker ends at once.
        #expect(Set(SignalTable.resetAfterFork) == Set(SignalTable.masterHandled + [SIGABRT]))
    }

    @Test func eachSignalOnce() {
        let numbers = SignalTable.all.map(\.number)
        #expect(Set(numbers).count == numbers.count)
        #expect(Set(SignalTable.all.map(\.name)).count == numbers.count)
    }

    @Test func namesForLogLines() {
        #expect(SignalTable.name(of: SIGKILL) == "SIGKILL")
        #expect(SignalTable.name(of: SIGSEGV) == "SIGSEGV")
        #expect(SignalTable.name(of: 63) == "signal 63")
        #expect(SignalTable.entry(SIGTERM)?.logName == "term")
    }

    @Test func regenerateReplacesOnlyBetweenMarkers() {
        let document = """
            # Title
            <!-- BEGIN GENERATED signals:readme (make docs) -->
            | stale |
            <!-- END GENERATED signals -->
            after
            """
        let fresh = SignalTable.regenerate(document)
        #expect(fresh.hasPrefix("# Title\n<!-- BEGIN GENERATED signals:readme (make docs) -->\n| Signal |"))
        #expect(fresh.hasSuffix("<!-- END GENERATED signals -->\nafter"))
        #expect(fresh.contains("| `HUP` |") && !fresh.contains("stale"))
        #expect(SignalTable.regenerate(fresh) == fresh)
        #expect(SignalTable.regenerate("no markers\n") == "no markers\n")
    }

    @Test func operationsTableListsWhatOperatorsMeet() {
        let table = SignalTable.markdown(.operations)
        for name in ["TERM", "INT", "QUIT", "HUP", "TTIN", "TTOU", "USR1", "CHLD", "USR2", "ABRT", "KILL"] {
            #expect(table.contains("| `\(name)` |"), "\(name) missing")
        }
        #expect(!table.contains("| `SEGV` |"))
        #expect(!SignalTable.markdown(.readme).contains("| `CHLD` |"))
    }
}
