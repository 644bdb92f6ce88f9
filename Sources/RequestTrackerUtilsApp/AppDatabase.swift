import Database

/// The application's database: today the SQLite file at `$WORKING_DIR/database.sqlite`. Each
/// worker opens its own connection after the fork (never the master); WAL lets readers run
/// beside the one writer, and every write transaction takes the write lock up front, so
/// concurrent writers queue on the busy timeout instead of failing with "database is locked".
struct AppDatabase: Sendable {
    let connection: Database
    let path: String

    /// How long a writer waits for the lock before giving up (SQLite's busy timeout).
    static let busyTimeoutSeconds = 10

    static func path(workingDirectory: String) -> String { workingDirectory + "/database.sqlite" }

    static func open(path: String) throws -> AppDatabase {
        do {
            return AppDatabase(
                connection: try Database.sqlite(path: path, busyTimeoutSeconds: busyTimeoutSeconds), path: path)
        } catch {
            throw OpenFailure(
                description: "\(error.message) (check the file and its directory's owner; restore a backup, or "
                    + "move a damaged file away and run `migrate`)")
        }
    }

    struct OpenFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether `error` came from the database (a missing table before `migrate`, a locked or broken file).
    static func isDatabaseError(_ error: any Error) -> Bool { error is DatabaseError || error is OpenFailure }

    /// Runs `body` in a write transaction, committed when it returns.
    @discardableResult
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try connection.write { try body(connection) }
    }

    /// Runs `body`'s reads in one transaction (a consistent snapshot, no write lock).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try connection.read { try body(connection) }
    }

    /// Runs `body` on the connection with no transaction around it: each statement reads its
    /// own snapshot. For a page's reads, where BEGIN and COMMIT cost more than the query; only
    /// for SELECTs.
    func readStatements<T>(_ body: (Database) throws -> T) throws -> T {
        try body(connection)
    }
}
