import PostgreSQL
import SQLite

/// One connection to the application's database, the interface every store is written
/// against: SQLite (the embedded default) or PostgreSQL. SQL uses `?` parameters and the
/// dialect both share (`INSERT ... RETURNING`, `coalesce`, `count(*)`); what differs (schema,
/// change tracking, table lookup, backups) is decided here, per backend.
///
/// Each worker opens its own after the fork and serves one request at a time, so a connection
/// is never used by two threads at once (hence `@unchecked Sendable`: handlers are `@Sendable`
/// closures, but each worker has its own).
public final class Database: @unchecked Sendable {
    public enum Backend: Sendable, Equatable {
        case sqlite, postgresql
    }

    enum Connection {
        case sqlite(SQLiteConnection)
        case postgresql(PostgreSQLSession)
    }

    let connection: Connection
    /// Where the database is, for messages: the file path, or the URI without its password.
    public let location: String

    init(_ connection: Connection, location: String) {
        self.connection = connection
        self.location = location
    }

    public var backend: Backend {
        switch connection {
        case .sqlite: return .sqlite
        case .postgresql: return .postgresql
        }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> Int {
        switch connection {
        case .sqlite(let sqlite): return try sqlite.run(sql, arguments)
        case .postgresql(let session): return try session.run(sql, arguments).affectedRows
        }
    }

    /// Runs several statements separated by `;`, with no parameters (a migration).
    public func executeScript(_ sql: String) throws(DatabaseError) {
        switch connection {
        case .sqlite(let sqlite):
            do { try sqlite.execute(sql) } catch { throw DatabaseError(error) }
        case .postgresql(let session): try session.script(sql)
        }
    }

    /// Calls `body` with each row `sql` returns, in order.
    public func forEachRow(_ sql: String, _ arguments: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        switch connection {
        case .sqlite(let sqlite): try sqlite.forEachRow(sql, arguments, body)
        case .postgresql(let session):
            let result = try session.run(sql, arguments)
            for index in 0..<result.rowCount { try body(Row(.postgresql(result, index))) }
        }
    }

    /// The first row `sql` returns, transformed, or nil when there is none.
    public func firstRow<T>(_ sql: String, _ arguments: [SQLValue] = [], _ transform: (Row) throws -> T) throws -> T? {
        switch connection {
        case .sqlite(let sqlite): return try sqlite.firstRow(sql, arguments, transform)
        case .postgresql(let session):
            let result = try session.run(sql, arguments)
            return result.rowCount == 0 ? nil : try transform(Row(.postgresql(result, 0)))
        }
    }

    /// The first column of the first row as an integer (nil for no row or NULL).
    public func int(_ sql: String, _ arguments: [SQLValue] = []) throws -> Int? {
        try firstRow(sql, arguments) { row in row.optionalInt(0) }.flatMap { $0 }
    }

    /// Runs `body` in a write transaction, committed when it returns and rolled back when it
    /// throws. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, so
    /// concurrent writers queue on the busy timeout instead of failing half-way. On
    /// PostgreSQL, writers of the same row (the tag counter) queue on its row lock.
    @discardableResult
    public func write<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN", body)
    }

    /// Runs `body`'s reads in one transaction: one consistent snapshot, no write lock.
    public func read<T>(_ body: () throws -> T) throws -> T {
        try transaction(
            begin: backend == .sqlite ? "BEGIN DEFERRED" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try executeScript(begin)
        do {
            let result = try body()
            try executeScript("COMMIT")
            return result
        } catch {
            rollback()
            throw error
        }
    }

    private func rollback() {
        switch connection {
        case .sqlite(let sqlite): if sqlite.inTransaction { try? sqlite.execute("ROLLBACK") }
        case .postgresql(let session): session.rollback()
        }
    }

    /// Runs `body` while holding a lock named `name` that other connections, on this host or
    /// another, wait for (a PostgreSQL session advisory lock). On SQLite, where each write
    /// transaction holds the whole database's write lock, `body` simply runs.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T {
        guard case .postgresql = connection else { return try body() }
        try execute("SELECT pg_advisory_lock(hashtext(?))", [.text(name)])
        defer { _ = try? execute("SELECT pg_advisory_unlock(hashtext(?))", [.text(name)]) }
        return try body()
    }

    /// The state of the database this connection sees (see ``DatabaseVersion``), or nil where
    /// the backend cannot tell: callers then read afresh each time. On SQLite, `data_version`
    /// and the connection's own count of changes. On PostgreSQL, the server's write-ahead log
    /// position: every commit, by any connection, moves it (so does background work such as
    /// autovacuum, which only costs a re-read); a server in recovery (a read replica) has none.
    public func version() throws -> DatabaseVersion? {
        switch connection {
        case .sqlite(let sqlite):
            let elsewhere = try int("PRAGMA data_version") ?? 0
            return DatabaseVersion(committedElsewhere: elsewhere, changedHere: sqlite.totalChanges)
        case .postgresql:
            let position = try firstRow(
                "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_insert_lsn() - '0/0')::bigint END"
            ) { $0.optionalInt(0) }
            return position.flatMap { $0 }.map { DatabaseVersion(committedElsewhere: $0, changedHere: 0) }
        }
    }

    /// Whether a table named `name` exists (asked of the database each time: another process
    /// may have created it since this connection opened).
    public func tableExists(_ name: String) throws -> Bool {
        switch connection {
        case .sqlite:
            return try int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) == 1
        case .postgresql:
            return try int(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?",
                [.text(name)]) == 1
        }
    }
}

/// The current row of a query, read by column position (0-based). Valid only inside the
/// closure it is passed to.
public struct Row {
    enum Source {
        case sqlite(SQLiteStatement)
        case postgresql(PostgreSQLResult, Int)
    }

    let source: Source

    init(_ source: Source) { self.source = source }

    /// The column as an integer (0 for NULL).
    public func int(_ column: Int) -> Int { optionalInt(column) ?? 0 }

    public func optionalInt(_ column: Int) -> Int? {
        switch source {
        case .sqlite(let statement):
            return statement.isNull(Int32(column)) ? nil : Int(statement.int(Int32(column)))
        case .postgresql(let result, let row): return result.int(row, column).map { Int($0) }
        }
    }

    /// The column as text ("" for NULL).
    public func text(_ column: Int) -> String { optionalText(column) ?? "" }

    public func optionalText(_ column: Int) -> String? {
        switch source {
        case .sqlite(let statement): return statement.isNull(Int32(column)) ? nil : statement.text(Int32(column))
        case .postgresql(let result, let row): return result.text(row, column)
        }
    }
}
