import Testing

@testable import PreforkCore

/// Gunicorn's spellings of the settings an operator coming from it types by habit.
@Suite struct GunicornSpellingTests {
    @Test func aliasesSetTheSameSettings() throws {
        let (configuration, _) = try resolve([
            "--keep-alive", "7", "--access-logformat", "%(h)s %(r)s", "--log-file", "/tmp/e.log", "-n", "rtu",
            "--worker-connections", "50",
        ])
        #expect(configuration[.keepalive] == Seconds(7))
        #expect(configuration[.accessLogFormat] == "%(h)s %(r)s")
        #expect(configuration[.errorLogfile] == "/tmp/e.log")
        #expect(configuration[.procName] == "rtu")
        #expect(configuration[.maxConnections] == 50)
        #expect(configuration.source(of: "keepalive") == .commandLine(flag: "--keep-alive"))
        let (long, _) = try resolve(["--name=other"])
        #expect(long[.procName] == "other")
    }

    @Test func aBadValueThroughAnAliasNamesTheAlias() {
        let lines = errorLines(["--worker-connections", "0"])
        #expect(lines.count == 1 && lines[0].contains("--worker-connections"), "\(lines)")
    }
}
