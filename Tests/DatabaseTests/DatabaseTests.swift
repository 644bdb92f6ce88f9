import PostgreSQL
import Testing

@testable import Database

#if canImport(Glibc)
    import Glibc
#endif

/// The Database interface on real SQLite files in /tmp.
@Suite struct DatabaseTests {
    private final class TemporaryFile {
        let path = "/tmp/database-tests-\(UInt64.random(in: 0...UInt64.max)).sqlite3"
        deinit { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    }

    private func open(_ file: TemporaryFile, busyTimeoutSeconds: Int = 5) throws -> Database {
        let database = try Database.sqlite(path: file.path, busyTimeoutSeconds: busyTimeoutSeconds)
        try database.executeScript(
            "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, size INTEGER)")
        return database
    }

    @Test func valuesRoundTripIncludingNullAndUnicode() throws {
        let file = TemporaryFile()
        let database = try open(file)
        try database.execute(
            "INSERT INTO t (name, size) VALUES (?, ?)", [.text("É'\"<b>\u{0}x"), .int(-9_000_000_000)])
        try database.execute("INSERT INTO t (name, size) VALUES (?, ?)", ["second", .null])
        var rows: [(String, Int?)] = []
        try database.forEachRow("SELECT name, size FROM t ORDER BY id") { row in
            rows.append((row.text(0), row.optionalInt(1)))
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == "É'\"<b>\u{0}x" && rows[0].1 == -9_000_000_000)
        #expect(rows[1].0 == "second" && rows[1].1 == nil)
        #expect(try database.int("SELECT size FROM t WHERE name = ?", ["second"]) == nil)
        #expect(try database.int("SELECT count(*) FROM t") == 2)
        #expect(try database.firstRow("SELECT name FROM t WHERE id = ?", [99]) { $0.text(0) } == nil)
    }

    @Test func executeReturnsChangedRowsAndReturningGivesTheNewValue() throws {
        let file = TemporaryFile()
        let database = try open(file)
        for name in ["a", "b", "c"] { try database.execute("INSERT INTO t (name, size) VALUES (?, 1)", [.text(name)]) }
        #expect(try database.execute("UPDATE t SET size = size + 1 WHERE name <> ?", ["a"]) == 2)
        #expect(try database.int("UPDATE t SET size = size + ? WHERE name = ? RETURNING size", [5, "a"]) == 6)
        #expect(try database.int("SELECT size FROM t WHERE name = 'a'") == 6)
    }

    @Test func writeRollsBackWhenTheBodyThrows() throws {
        struct Stop: Error {}
        let file = TemporaryFile()
        let database = try open(file)
        #expect(throws: Stop.self) {
            try database.write {
                try database.execute("INSERT INTO t (name) VALUES ('kept?')")
                throw Stop()
            }
        }
        #expect(try database.int("SELECT count(*) FROM t") == 0)
        try database.write { try database.execute("INSERT INTO t (name) VALUES ('kept')") }
        #expect(try database.int("SELECT count(*) FROM t") == 1)
    }

    @Test func aConstraintFailureIsItsOwnKindAndTheStatementIsReusable() throws {
        let file = TemporaryFile()
        let database = try open(file)
        try database.execute("INSERT INTO t (name) VALUES (?)", ["same"])
        do {
            try database.execute("INSERT INTO t (name) VALUES (?)", ["same"])
            Issue.record("a duplicate was accepted")
        } catch {
            #expect(error.kind == .constraint)
            #expect(error.message.contains("UNIQUE"))
        }
        try database.execute("INSERT INTO t (name) VALUES (?)", ["other"])
        #expect(try database.int("SELECT count(*) FROM t") == 2)
    }

    @Test func badSQLAndAMissingTableAreStatementErrors() throws {
        let file = TemporaryFile()
        let database = try open(file)
        for sql in ["SELEC 1", "SELECT * FROM missing"] {
            do {
                try database.forEachRow(sql) { _ in }
                Issue.record("\(sql) ran")
            } catch let error as DatabaseError {
                #expect(error.kind == .statement)
            }
        }
    }

    @Test func aWriterPastTheBusyTimeoutGetsBusy() throws {
        let file = TemporaryFile()
        let holder = try open(file)
        let waiter = try open(file, busyTimeoutSeconds: 0)
        try holder.executeScript("BEGIN IMMEDIATE")
        defer { try? holder.executeScript("ROLLBACK") }
        do {
            try waiter.write { try waiter.execute("INSERT INTO t (name) VALUES ('x')") }
            Issue.record("the second writer got the lock")
        } catch let error as DatabaseError {
            #expect(error.kind == .busy)
        }
    }

    @Test func theVersionChangesAfterACommitHereOrElsewhere() throws {
        let file = TemporaryFile()
        let here = try open(file)
        let elsewhere = try open(file)
        let first = try here.version()
        #expect(try here.version() == first)
        try elsewhere.execute("INSERT INTO t (name) VALUES ('there')")
        let second = try here.version()
        #expect(second != first)
        try here.execute("INSERT INTO t (name) VALUES ('here')")
        #expect(try here.version() != second)
    }

    @Test func anUnopenableFileIsUnavailableAndSaysWhere() {
        do {
            _ = try Database.sqlite(path: "/nonexistent-dir/x.sqlite", busyTimeoutSeconds: 1)
            Issue.record("opened")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("/nonexistent-dir/x.sqlite"))
        }
    }

    @Test func backupCopiesEveryRowAndTableExists() throws {
        let file = TemporaryFile()
        let copy = TemporaryFile()
        let database = try open(file)
        for n in 0..<50 {
            try database.execute("INSERT INTO t (name, size) VALUES (?, ?)", [.text("n\(n)"), SQLValue(n)])
        }
        try database.backup(toNewFile: copy.path)
        let restored = try Database.sqlite(path: copy.path, busyTimeoutSeconds: 1)
        #expect(try restored.tableExists("t") && !restored.tableExists("missing"))
        #expect(try restored.int("SELECT sum(size) FROM t") == 1225)
    }
}

/// The pure parts of the PostgreSQL side: `?` numbering and URI reading and redaction.
@Suite struct PostgreSQLTextTests {
    @Test func questionMarksAreNumberedOutsideQuotes() {
        #expect(PlaceholderNumbering.numbered("SELECT ? , '?', \"a?\", ?") == "SELECT $1 , '?', \"a?\", $2")
        #expect(PlaceholderNumbering.numbered("SELECT 'it''s ?' WHERE x = ?") == "SELECT 'it''s ?' WHERE x = $1")
        #expect(PlaceholderNumbering.numbered("no parameters") == "no parameters")
    }

    @Test func uriKeywordsAndTheRedactedFormNeverHoldThePassword() throws {
        let uri = try PostgreSQLURI.parse("postgresql://rtutils:s%40cret@db.example.org:5433/rtutils?sslmode=require")
            .get()
        #expect(uri.parameters.contains(.init(keyword: "password", value: "s@cret")))
        #expect(uri.parameters.contains(.init(keyword: "host", value: "db.example.org")))
        #expect(uri.redacted == "postgresql://rtutils:(secret)@db.example.org:5433/rtutils?sslmode=require")
        let socket = try PostgreSQLURI.parse("postgresql:///rtutils?host=/run/postgresql").get()
        #expect(socket.redacted == "postgresql:///rtutils?host=/run/postgresql")
    }

    @Test func aRefusedURIIsExplainedWithoutItsPassword() {
        for text in [
            "postgresql://u:hunter2@host/db?nonsense=1", "postgresql://u:hunter2@host:99999/db",
            "postgresql://u:hunter2@[::1/db",
        ] {
            guard case .failure(let error) = PostgreSQLURI.parse(text) else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(!error.message.contains("hunter2"), "\(error.message)")
            #expect(!error.message.isEmpty && !error.message.contains("\n"))
        }
        guard case .failure = PostgreSQLURI.parse("mysql://u@h/db") else {
            Issue.record("mysql:// was accepted")
            return
        }
    }
}
