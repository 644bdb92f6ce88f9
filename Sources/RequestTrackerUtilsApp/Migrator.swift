import Database

/// Applies ``Migrations`` in order, each in its own write transaction, recording
/// each in `schema_migrations`. Idempotent; safe when two run at once, on one host or several
/// (on SQLite the second waits for the write lock; on PostgreSQL for an advisory lock held for
/// the whole run; then it finds the migrations recorded and skips them); refuses a database
/// that a newer release has migrated past what this one knows.
struct Migrator {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Outcome {
        var applied: [Migration] = []
        var version = 0
    }

    let database: AppDatabase
    let migrations: [Migration]

    init(database: AppDatabase, migrations: [Migration] = Migrations.all) {
        self.database = database
        self.migrations = migrations
    }

    static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )
        """

    /// The versions recorded in the database (empty for a new database).
    func appliedVersions() throws -> [Int] {
        try database.read { db in
            guard try db.tableExists("schema_migrations") else { return [] }
            var versions: [Int] = []
            try db.forEachRow("SELECT version FROM schema_migrations ORDER BY version") { row in
                versions.append(row.int(0))
            }
            return versions
        }
    }

    /// Migrates up to `target` (default: the latest).
    func migrate(to target: Int? = nil) throws -> Outcome {
        let latest = migrations.last?.version ?? 0
        let target = target ?? latest
        guard (0...latest).contains(target) else {
            throw Failure(description: "there is no migration \(target); this release knows versions 1 to \(latest)")
        }
        let current = try appliedVersions().last ?? 0
        if current > latest { throw Self.newer(database.location, current, latest) }
        if target < current {
            throw Failure(
                description: "database \(database.location) is at schema version \(current), past \(target); "
                    + "migrations only go forward (restore a backup to go back)")
        }
        return try database.connection.exclusively("request-tracker-utils migrate") {
            try apply(upTo: target, latest: latest)
        }
    }

    private func apply(upTo target: Int, latest: Int) throws -> Outcome {
        var outcome = Outcome()
        for migration in migrations where migration.version <= target {
            let applied = try database.write { db -> Bool in
                try db.executeScript(Self.createTable)
                let newest = try db.int("SELECT max(version) FROM schema_migrations") ?? 0
                if newest > latest { throw Self.newer(database.location, newest, latest) }
                let done = try db.int(
                    "SELECT count(*) FROM schema_migrations WHERE version = ?", [SQLValue(migration.version)])
                if done != 0 { return false }
                try db.executeScript(migration.sql(for: db.backend))
                try db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [SQLValue(migration.version), .text(migration.name), .text(Timestamp.now().iso8601)])
                return true
            }
            if applied { outcome.applied.append(migration) }
        }
        outcome.version = try appliedVersions().last ?? 0
        return outcome
    }

    private static func newer(_ location: String, _ version: Int, _ latest: Int) -> Failure {
        Failure(
            description: "database \(location) is at schema version \(version), newer than this release knows "
                + "(\(latest)); run the newer release, or restore the backup made before the upgrade")
    }
}
