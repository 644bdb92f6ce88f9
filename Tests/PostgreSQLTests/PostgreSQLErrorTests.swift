import PostgreSQL
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PostgreSQLTests {
    /// Failures: what kind, which SQLSTATE, and a one-line message without the password.
    @Suite struct ErrorTests {
        @Test func uniqueViolationIsAStatementError() throws {
            let connection = try TestCluster.current.connect()
            try connection.execute("CREATE TEMP TABLE tags (tag text PRIMARY KEY)")
            _ = try connection.query("INSERT INTO tags VALUES ($1)", ["W12-0001"])
            let error = try #require(throws: PostgreSQLError.self) {
                try connection.preparedQuery("INSERT INTO tags VALUES ($1)", ["W12-0001"])
            }
            #expect(error.kind == .statement)
            #expect(error.sqlState == "23505")
            #expect(error.message == #"duplicate key value violates unique constraint "tags_pkey""#)
            #expect(error.description == error.message)
            #expect(connection.isOpen)
            #expect(try connection.query("SELECT count(*) FROM tags").int(0, 0) == 1)
        }

        @Test func syntaxErrorHasItsSQLState() throws {
            let connection = try TestCluster.current.connect()
            let error = try #require(throws: PostgreSQLError.self) { try connection.query("SELEC 1") }
            #expect(error.kind == .statement)
            #expect(error.sqlState == "42601")
            #expect(error.message == #"syntax error at or near "SELEC""#)
            let prepared = try #require(throws: PostgreSQLError.self) { try connection.preparedQuery("SELEC 2") }
            #expect(prepared.sqlState == "42601")
            let empty = try #require(throws: PostgreSQLError.self) { try connection.query("") }
            #expect(empty.kind == .statement)
            #expect(try connection.query("SELECT 1").int(0, 0) == 1)
        }

        @Test func nulByteInAParameterIsRefused() throws {
            let connection = try TestCluster.current.connect()
            let error = try #require(throws: PostgreSQLError.self) {
                try connection.query("SELECT $1, $2", ["a", "b\0c"])
            }
            #expect(error.kind == .statement)
            #expect(error.message == "parameter $2 holds a NUL byte")
        }

        @Test func wrongPasswordIsAConnectionErrorWithoutThePassword() throws {
            let cluster = try TestCluster.current
            let password = "not-the-Password-4711"
            let error = try #require(throws: PostgreSQLError.self) {
                try PostgreSQLConnection(parameters: cluster.parameters(password: password))
            }
            #expect(error.kind == .connection)
            #expect(!error.message.contains(password))
            #expect(!error.message.contains(cluster.password))
            #expect(!error.message.contains("\n"))
            #expect(error.message.contains(#"password authentication failed for user "rtutils""#), "\(error.message)")
        }

        @Test func unknownDatabaseIsAConnectionError() throws {
            let cluster = try TestCluster.current
            let error = try #require(throws: PostgreSQLError.self) {
                try PostgreSQLConnection(parameters: cluster.parameters([("dbname", "no_such_db")]))
            }
            #expect(error.kind == .connection)
            #expect(error.message.contains(#"database "no_such_db" does not exist"#), "\(error.message)")
        }

        @Test func refusedPortFailsQuicklyInOneLine() throws {
            let port = unusedPort()
            let started = ContinuousClock.now
            let error = try #require(throws: PostgreSQLError.self) {
                try PostgreSQLConnection(parameters: [
                    ("host", "127.0.0.1"), ("port", String(port)), ("dbname", "rtutils"), ("user", "rtutils"),
                    ("password", "secret-123"), ("connect_timeout", "2"),
                ])
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(error.kind == .connection)
            #expect(
                error.message == #"connection to server at "127.0.0.1", port \#(port) failed: Connection refused"#,
                "\(error.message)")
        }

        @Test func silentServerTimesOutAfterConnectTimeout() throws {
            // A socket that listens but never accepts: TCP connects, the startup packet gets no answer.
            let (fd, port) = listeningSocket()
            defer { close(fd) }
            let started = ContinuousClock.now
            let error = try #require(throws: PostgreSQLError.self) {
                try PostgreSQLConnection(parameters: [
                    ("host", "127.0.0.1"), ("port", String(port)), ("user", "rtutils"), ("connect_timeout", "2"),
                ])
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(1.5) && elapsed < .seconds(5), "\(elapsed)")
            #expect(error.kind == .connection)
            #expect(error.message.contains("timeout expired"), "\(error.message)")
        }

        @Test func lostConnectionIsAConnectionErrorUntilReset() throws {
            let cluster = try TestCluster.current
            let connection = try cluster.connect()
            let pid = try #require(try connection.preparedQuery("SELECT pg_backend_pid()").int(0, 0))
            let other = try cluster.connect()
            let terminated = try other.query("SELECT pg_terminate_backend($1::int, 5000)", [String(pid)])
            #expect(terminated.text(0, 0) == "t")
            let error = try #require(throws: PostgreSQLError.self) { try connection.query("SELECT 1") }
            #expect(error.kind == .connection)
            #expect(!error.message.contains("\n"))
            #expect(!connection.isOpen)
            try connection.reset()
            #expect(connection.isOpen)
            let newPID = try #require(try connection.preparedQuery("SELECT pg_backend_pid()").int(0, 0))
            #expect(newPID != pid)
        }

        @Test func statementTimeoutCancelsTheStatement() throws {
            let connection = try TestCluster.current.connect([("options", "-c statement_timeout=200")])
            let started = ContinuousClock.now
            let error = try #require(throws: PostgreSQLError.self) { try connection.query("SELECT pg_sleep(2)") }
            #expect(ContinuousClock.now - started < .seconds(1.5))
            #expect(error.kind == .statement)
            #expect(error.sqlState == "57014")
            #expect(error.message == "canceling statement due to statement timeout")
            #expect(try connection.query("SELECT 1").int(0, 0) == 1)
        }
    }
}

/// A port on 127.0.0.1 nothing listens on (bound, then closed).
private func unusedPort() -> Int {
    let (fd, port) = boundSocket()
    close(fd)
    return port
}

/// A socket listening on a free loopback port that never accepts.
private func listeningSocket() -> (Int32, Int) {
    let (fd, port) = boundSocket()
    listen(fd, 1)
    return (fd, port)
}

private func boundSocket() -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length)
            return getsockname(fd, $0, &length)
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
