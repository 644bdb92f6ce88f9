import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// The SQLite database at `$WORKING_DIR/database.sqlite`, through GRDB. Each worker opens its
/// own connection after the fork (never the master); WAL lets readers run beside the one
/// writer, and every write transaction is `BEGIN IMMEDIATE`, taking the write lock up front,
/// so concurrent writers queue on the busy timeout instead of failing with "database is locked".
struct AppDatabase: Sendable {
    let queue: DatabaseQueue
    let path: String

    /// How long a writer waits for the lock before giving up (SQLite's busy timeout).
    static let busyTimeoutSeconds: Double = 10

    static func path(workingDirectory: String) -> String { workingDirectory + "/database.sqlite" }

    static func open(path: String) throws -> AppDatabase {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.label = "request-tracker-utils"
        configuration.prepareDatabase { db in
            try enableWAL(db)
            // WAL is durable at checkpoints with NORMAL; a power cut loses at most the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            return AppDatabase(queue: try DatabaseQueue(path: path, configuration: configuration), path: path)
        } catch let error as DatabaseError {
            throw OpenFailure(
                description: "cannot open the database \(path): \(error.message ?? "\(error)") (check the file and its "
                    + "directory's owner; restore a backup, or move a damaged file away and run `migrate`)")
        }
    }

    /// Switches a new database to WAL (it stays so). SQLite does not call the busy handler for
    /// this switch, so processes opening a new file at once (workers, two `migrate`s) would
    /// fail with "database is locked": retry within the busy timeout instead.
    private static func enableWAL(_ db: Database) throws {
        var waited = 0.0
        while true {
            do {
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                return
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && waited < busyTimeoutSeconds {
                usleep(20_000)
                waited += 0.02
            }
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, committed when it returns.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    struct OpenFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether `error` came from SQLite (a missing table before `migrate`, a locked or broken file).
    static func isDatabaseError(_ error: any Error) -> Bool { error is DatabaseError }

    /// Runs `body` for reading (a deferred transaction: a consistent snapshot, no write lock).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.read(body)
    }

    /// Runs `body` on the connection with no transaction around it: each statement reads its
    /// own snapshot. For a page's reads, where `read`'s four extra statements (the read-only
    /// pragma on and off, BEGIN, COMMIT) cost more than the query; only for SELECTs.
    func readStatements<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.inDatabase(body)
    }
}
