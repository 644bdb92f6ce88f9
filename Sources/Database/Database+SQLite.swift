import SQLite

#if canImport(Glibc)
    import Glibc
#endif

extension Database {
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
        return Database(.sqlite(connection), location: path)
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
            } catch  where error.isBusy && waitedMilliseconds < busyTimeoutSeconds * 1000 {
                usleep(20_000)
                waitedMilliseconds += 20
            }
        }
    }

    /// A consistent copy of the whole SQLite database into a new file at `path`, safe while
    /// other connections write (SQLite's online backup API). PostgreSQL has `pg_dump`.
    public func backup(toNewFile path: String) throws(DatabaseError) {
        guard case .sqlite(let sqlite) = connection else {
            throw DatabaseError(.statement, "a file backup is for SQLite; back up PostgreSQL with pg_dump")
        }
        do {
            let destination = try SQLiteConnection(path: path)
            try sqlite.backup(to: destination)
        } catch {
            throw DatabaseError(error)
        }
    }
}

extension SQLiteConnection {
    func run(_ sql: String, _ arguments: [SQLValue]) throws(DatabaseError) -> Int {
        do {
            let statement = try prepared(sql, arguments)
            while try statement.step() {}
            return changes
        } catch {
            throw DatabaseError(error)
        }
    }

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (Row) throws -> Void) throws {
        let statement: SQLiteStatement
        do { statement = try prepared(sql, arguments) } catch { throw DatabaseError(error) }
        defer { statement.reset() }
        let row = Row(.sqlite(statement))
        while true {
            let more: Bool
            do { more = try statement.step() } catch { throw DatabaseError(error) }
            guard more else { return }
            try body(row)
        }
    }

    func firstRow<T>(_ sql: String, _ arguments: [SQLValue], _ transform: (Row) throws -> T) throws -> T? {
        let statement: SQLiteStatement
        do { statement = try prepared(sql, arguments) } catch { throw DatabaseError(error) }
        defer { statement.reset() }
        let found: Bool
        do { found = try statement.step() } catch { throw DatabaseError(error) }
        guard found else { return nil }
        return try transform(Row(.sqlite(statement)))
    }

    private func prepared(_ sql: String, _ arguments: [SQLValue]) throws(SQLiteError) -> SQLiteStatement {
        let statement = try statement(sql)
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
