import Database
import PreforkCore

/// The application's database: the SQLite file `$WORKING_DIR/database.sqlite` by default, or
/// PostgreSQL at `database_url`. Each worker opens its own connection after the fork (never
/// the master). On SQLite, WAL lets readers run beside the one writer and every write
/// transaction takes the write lock up front; on PostgreSQL the connection opens on first use
/// and again after it was lost, so a worker boots, and lives, while the server is down.
struct AppDatabase: Sendable {
    let connection: Database
    /// The file path or the URI without its password, for messages.
    var location: String { connection.location }
    var backend: Database.Backend { connection.backend }

    /// How long a SQLite writer waits for the lock before giving up (SQLite's busy timeout).
    static let busyTimeoutSeconds = 10

    static func path(workingDirectory: String) -> String { workingDirectory + "/database.sqlite" }

    /// The database the settings name.
    static func open(_ configuration: Configuration, applicationName: String) throws -> AppDatabase {
        guard let uri = configuration[DatabaseSettings.url].postgresql else {
            return try open(path: path(workingDirectory: configuration[AppSettings.workingDir]))
        }
        let timeout = DatabaseSettings.effectiveTimeout(configuration)
        return AppDatabase(
            connection: Database.postgresql(
                uri, password: configuration[DatabaseSettings.password],
                statementTimeoutMilliseconds: Int(timeout * 1000), connectTimeoutSeconds: max(2, Int(timeout)),
                applicationName: applicationName))
    }

    static func open(path: String) throws -> AppDatabase {
        do {
            return AppDatabase(connection: try Database.sqlite(path: path, busyTimeoutSeconds: busyTimeoutSeconds))
        } catch {
            throw OpenFailure(
                description: "\(error.message) (check the file and its directory's owner; restore a backup, or "
                    + "move a damaged file away and run `migrate`)")
        }
    }

    struct OpenFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether `error` came from the database (unreachable, a missing table before `migrate`,
    /// a locked or broken file).
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
