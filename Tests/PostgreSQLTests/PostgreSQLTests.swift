import Testing

@testable import PostgreSQL

/// The PostgreSQL module's tests: one throw-away cluster (Tests/pg/pg-server.sh) for all the
/// nested suites, started before the first and stopped after the last.
@Suite(.testCluster)
struct PostgreSQLTests {
    @Test func foldsLibpqMessagesToOneLine() {
        let refused = """
            connection to server at "localhost" (::1), port 5999 failed: Connection refused
            \tIs the server running on that host and accepting TCP/IP connections?
            connection to server at "localhost" (127.0.0.1), port 5999 failed: Connection refused
            \tIs the server running on that host and accepting TCP/IP connections?

            """
        #expect(
            PostgreSQLError.oneLine(refused)
                == #"connection to server at "localhost" (::1), port 5999 failed: Connection refused; "#
                + #"connection to server at "localhost" (127.0.0.1), port 5999 failed: Connection refused"#)
        let fatal = "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed\n"
        #expect(
            PostgreSQLError.oneLine(fatal)
                == #"connection to server at "127.0.0.1", port 5432 failed: FATAL: password authentication failed"#)
        let lost = "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n"
        #expect(PostgreSQLError.oneLine(lost) == "server closed the connection unexpectedly")
        #expect(PostgreSQLError.oneLine("\tonly a hint\n") == "only a hint")
        #expect(PostgreSQLError.oneLine("same\nsame\n") == "same")
        #expect(PostgreSQLError.oneLine("\n") == "unknown libpq error")
    }

    @Test func errorDescriptionIsItsMessage() {
        let error = PostgreSQLError(kind: .statement, sqlState: "23505", message: "duplicate key")
        #expect(error.description == "duplicate key")
    }
}
