import SQLite

#if canImport(Glibc)
    import Glibc
#endif

/// A value bound to a `?` parameter.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null

    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(stringLiteral value: String) { self = .text(value) }
}

/// A database call that failed, in one line, with what kind of failure it was.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The database cannot be reached or opened (file, permissions, connection).
        case unavailable
        /// Another writer held the lock past the busy timeout.
        case busy
        /// A UNIQUE, CHECK or NOT NULL constraint refused the change.
        case constraint
        /// Anything else: bad SQL, a missing table before `migrate`, a damaged file.
        case statement
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    init(_ error: SQLiteError) {
        let kind: Kind = error.isBusy ? .busy : error.isConstraint ? .constraint : .statement
        self.init(kind, error.message)
    }
}

/// Which state of the database a connection sees. Equal versions read on one connection mean
/// nothing was committed in between, by this connection or another (SQLite's `data_version`
/// plus the connection's own count of changed rows).
public struct DatabaseVersion: Equatable, Sendable {
    public var committedElsewhere: Int
    public var changedHere: Int

    public init(committedElsewhere: Int, changedHere: Int) {
        self.committedElsewhere = committedElsewhere
        self.changedHere = changedHere
    }
}

/// One connection to the application's database, the interface every store is written
/// against. SQL uses `?` parameters. Each worker opens its own after the fork; a worker serves
/// one request at a time, so a connection is never used by two threads at once (hence
/// `@unchecked Sendable`: handlers are `@Sendable` closures, but each worker has its own).
public final class Database: @unchecked Sendable {
    let sqlite: SQLiteConnection
    /// Where the database is, for messages (a file path).
    public let location: String

    private init(sqlite: SQLiteConnection, location: String) {
        self.sqlite = sqlite
        self.location = location
    }

    /// Opens the SQLite file at `path` (creating it), in WAL mode with foreign keys on; a
    /// writer waits up to `busyTimeoutSeconds` for another's lock.
    public static func sqlite(path: String, busyTimeoutSeconds: Int) throws(DatabaseError) -> Database {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path)
        } catch {
            throw DatabaseError(.unavailable, "cannot open the database \(path): \(error.message)")
        }
        connection.setBusyTimeout(milliseconds: Int32(busyTimeoutSeconds * 1000))
        do {
            try enableWAL(connection, busyTimeoutSeconds: busyTimeoutSeconds)
            // WAL is durable at checkpoints with NORMAL; a power cut loses at most the last commits.
            try connection.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        } catch {
            throw DatabaseError(.unavailable, "cannot open the database \(path): \(error.message)")
        }
        return Database(sqlite: connection, location: path)
    }

    /// Switches a new database to WAL (it stays so). SQLite does not call the busy handler for
    /// this switch, so processes opening a new file at once (workers, two `migrate`s) would
    /// fail with "database is locked": retry within the busy timeout instead.
    private static func enableWAL(_ connection: SQLiteConnection, busyTimeoutSeconds: Int) throws(SQLiteError) {
        var waitedMilliseconds = 0
        while true {
            do {
                try connection.execute("PRAGMA journal_mode = WAL")
                return
            } catch where error.isBusy && waitedMilliseconds < busyTimeoutSeconds * 1000 {
                usleep(20_000)
                waitedMilliseconds += 20
            }
        }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> Int {
        do {
            let statement = try prepared(sql, arguments)
            while try statement.step() {}
            return sqlite.changes
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Runs several statements separated by `;`, with no parameters (a migration).
    public func executeScript(_ sql: String) throws(DatabaseError) {
        do { try sqlite.execute(sql) } catch { throw DatabaseError(error) }
    }

    /// Calls `body` with each row `sql` returns, in order.
    public func forEachRow(_ sql: String, _ arguments: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        let statement: SQLiteStatement
        do { statement = try prepared(sql, arguments) } catch { throw DatabaseError(error) }
        defer { statement.reset() }
        let row = Row(statement: statement)
        while true {
            let more: Bool
            do { more = try statement.step() } catch { throw DatabaseError(error) }
            guard more else { return }
            try body(row)
        }
    }

    /// The first row `sql` returns, transformed, or nil when there is none.
    public func firstRow<T>(_ sql: String, _ arguments: [SQLValue] = [], _ transform: (Row) throws -> T) throws -> T? {
        let statement: SQLiteStatement
        do { statement = try prepared(sql, arguments) } catch { throw DatabaseError(error) }
        defer { statement.reset() }
        let found: Bool
        do { found = try statement.step() } catch { throw DatabaseError(error) }
        guard found else { return nil }
        return try transform(Row(statement: statement))
    }

    /// The first column of the first row as an integer (nil for no row or NULL).
    public func int(_ sql: String, _ arguments: [SQLValue] = []) throws -> Int? {
        try firstRow(sql, arguments) { row in row.optionalInt(0) }.flatMap { $0 }
    }

    /// Runs `body` in a write transaction, committed when it returns and rolled back when it
    /// throws. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front, so
    /// concurrent writers queue on the busy timeout instead of failing half-way.
    @discardableResult
    public func write<T>(_ body: () throws -> T) throws -> T {
        try executeScript("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try executeScript("COMMIT")
            return result
        } catch {
            if sqlite.inTransaction { try? sqlite.execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body`'s reads in one transaction: one consistent snapshot.
    public func read<T>(_ body: () throws -> T) throws -> T {
        try executeScript("BEGIN DEFERRED")
        defer { if sqlite.inTransaction { try? sqlite.execute("COMMIT") } }
        return try body()
    }

    /// The state of the database this connection sees (see ``DatabaseVersion``).
    public func version() throws -> DatabaseVersion {
        let elsewhere = try int("PRAGMA data_version") ?? 0
        return DatabaseVersion(committedElsewhere: elsewhere, changedHere: sqlite.totalChanges)
    }

    /// Whether a table named `name` exists (asked of the database each time: another process
    /// may have created it since this connection opened).
    public func tableExists(_ name: String) throws -> Bool {
        try int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) == 1
    }

    /// A consistent copy of the whole database into a new SQLite file at `path`, safe while
    /// other connections write (SQLite's online backup API).
    public func backup(toNewFile path: String) throws(DatabaseError) {
        do {
            let destination = try SQLiteConnection(path: path)
            try sqlite.backup(to: destination)
        } catch {
            throw DatabaseError(error)
        }
    }

    private func prepared(_ sql: String, _ arguments: [SQLValue]) throws(SQLiteError) -> SQLiteStatement {
        let statement = try sqlite.statement(sql)
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            switch argument {
            case .int(let value): statement.bind(index, int: value)
            case .text(let value): statement.bind(index, text: value)
            case .null: statement.bindNull(index)
            }
        }
        return statement
    }
}

/// The current row of a query, read by column position (0-based). Valid only inside the
/// closure it is passed to.
public struct Row {
    let statement: SQLiteStatement

    /// The column as an integer (0 for NULL).
    public func int(_ column: Int) -> Int { Int(statement.int(Int32(column))) }

    public func optionalInt(_ column: Int) -> Int? {
        statement.isNull(Int32(column)) ? nil : Int(statement.int(Int32(column)))
    }

    /// The column as text ("" for NULL).
    public func text(_ column: Int) -> String { statement.text(Int32(column)) }

    public func optionalText(_ column: Int) -> String? {
        statement.isNull(Int32(column)) ? nil : statement.text(Int32(column))
    }
}
