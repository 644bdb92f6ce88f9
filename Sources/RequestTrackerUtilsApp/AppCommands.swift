import Logging
import OpenSSLSupport
import Prefork
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// The application's commands: the preStart steps `migrate` and `collectstatic`, and
/// `generate-secret-key`. Each prints what it did on stdout; a failure is one line on stderr
/// and exit status 1, so systemd's `ExecStartPre=` stops the start.
enum AppCommands {
    static let all: [ApplicationCommand] = [
        ApplicationCommand(
            name: "migrate",
            summary: "apply database migrations (`migrate VERSION` stops at one, `migrate status` lists them)",
            run: migrate),
        ApplicationCommand(
            name: "collectstatic", summary: "write the static files with hashed names and their manifest",
            run: collectStatic),
        ApplicationCommand(
            name: "backup",
            summary: "copy the live database safely (`backup [PATH]`, default WORKING_DIR/backups/…)",
            run: backup),
        ApplicationCommand(
            name: "generate-secret-key", summary: "print a new random SECRET_KEY",
            run: { _, _, _ in
                print(Digest.hex(SecureRandom.bytes(32)))
                return 0
            }),
    ]

    static func migrate(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        let workingDirectory = configuration[AppSettings.workingDir]
        do {
            try WorkingDirectory.prepare(workingDirectory)
            let database = try AppDatabase.open(configuration, applicationName: "request-tracker-utils migrate")
            let migrator = Migrator(database: database)
            switch arguments.first {
            case "status":
                let applied = Set(try migrator.appliedVersions())
                for migration in Migrations.all {
                    print(
                        "[\(applied.contains(migration.version) ? "X" : " ")] \(pad(migration.version)) \(migration.name)"
                    )
                }
                let pending = Migrations.all.filter { !applied.contains($0.version) }.count
                print(pending == 0 ? "database \(database.location) is up to date" : "\(pending) migration(s) pending")
                return pending == 0 ? 0 : 1
            case nil:
                return try report(migrator.migrate(), database)
            case let text?:
                guard let target = Int(text), arguments.count == 1 else {
                    fail(
                        "migrate: unexpected \(arguments.joined(separator: " ")) (use `migrate`, `migrate VERSION` or `migrate status`)"
                    )
                    return 1
                }
                return try report(migrator.migrate(to: target), database)
            }
        } catch {
            fail("migrate: \(error)")
            return 1
        }
    }

    private static func report(_ outcome: Migrator.Outcome, _ database: AppDatabase) -> Int32 {
        for migration in outcome.applied { print("applied \(pad(migration.version)) \(migration.name)") }
        if outcome.applied.isEmpty {
            print("no migrations to apply: database \(database.location) is at version \(outcome.version)")
        } else {
            print("database \(database.location) is now at version \(outcome.version)")
        }
        return 0
    }

    static func collectStatic(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        let workingDirectory = configuration[AppSettings.workingDir]
        let directory = CollectStatic.directory(workingDirectory: workingDirectory)
        do {
            try WorkingDirectory.prepare(workingDirectory)
            let outcome = try CollectStatic(directory: directory).run()
            if outcome.written.isEmpty {
                print("no changes: \(outcome.unchanged.count) files in \(directory) are up to date")
            } else {
                for name in outcome.written { print("wrote \(directory)/\(name)") }
                print("\(outcome.written.count) files written, \(outcome.unchanged.count) unchanged in \(directory)")
            }
            return 0
        } catch {
            fail("collectstatic: \(error)")
            return 1
        }
    }

    static func backup(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        let workingDirectory = configuration[AppSettings.workingDir]
        guard arguments.count <= 1 else {
            fail("backup: unexpected \(arguments.joined(separator: " ")) (use `backup` or `backup PATH`)")
            return 1
        }
        if let uri = configuration[DatabaseSettings.url].postgresql {
            fail(
                "backup: the database is PostgreSQL (\(uri.redacted)), which this command does not copy: "
                    + "use pg_dump, like `pg_dump --format=custom --file=rtutils.dump DATABASE`")
            return 1
        }
        let path = arguments.first ?? DatabaseBackup.defaultPath(workingDirectory: workingDirectory)
        let source = AppDatabase.path(workingDirectory: workingDirectory)
        guard access(source, R_OK) == 0 else {
            fail("backup: there is no readable database at \(source) (check WORKING_DIR)")
            return 1
        }
        do {
            let version = try DatabaseBackup.run(database: AppDatabase.open(path: source), to: path)
            print("backed up \(source) to \(path) (schema version \(version), integrity ok)")
            return 0
        } catch {
            fail("backup: \(error)")
            return 1
        }
    }

    private static func pad(_ version: Int) -> String {
        let text = String(version)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    /// The database for a command that needs the current schema, or nil after saying (one line)
    /// that `migrate` must run first.
    static func migratedDatabase(_ configuration: Configuration, command: String) throws -> AppDatabase? {
        let database = try AppDatabase.open(configuration, applicationName: "request-tracker-utils \(command)")
        let version = try Migrator(database: database).appliedVersions().last ?? 0
        guard version >= Migrations.latest else {
            fail("\(command): the database is at schema version \(version): run `request-tracker-utils migrate` first")
            return nil
        }
        return database
    }

    static func fail(_ line: String) {
        let text = "error: \(line)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
