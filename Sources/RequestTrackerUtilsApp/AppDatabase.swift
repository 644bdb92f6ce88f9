import GRDB

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
        configuration.journalMode = .wal
        configuration.foreignKeysEnabled = true
        configuration.label = "request-tracker-utils"
        configuration.prepareDatabase { db in
            // WAL is durable at checkpoints with NORMAL; a power cut loses at most the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return AppDatabase(queue: try DatabaseQueue(path: path, configuration: configuration), path: path)
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

    /// Whether `error` came from SQLite (a missing table before `migrate`, a locked or broken file).
    static func isDatabaseError(_ error: any Error) -> Bool { error is DatabaseError }

    /// Runs `body` for reading (a deferred transaction: a consistent snapshot, no write lock).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.read(body)
    }
}
