import Database

#if canImport(Glibc)
    import Glibc
#endif

/// `request-tracker-utils backup [PATH]`: a consistent copy of the live database through
/// SQLite's online backup API, safe while the service writes (copying the file itself is not:
/// WAL mode keeps recent commits in `database.sqlite-wal`). The copy is written to a temporary
/// name, checked with `PRAGMA integrity_check`, and renamed into place.
enum DatabaseBackup {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `$WORKING_DIR/backups/database-20261121-210501.sqlite`
    static func defaultPath(workingDirectory: String) -> String {
        "\(workingDirectory)/backups/database-\(Timestamp.now().localFileStamp).sqlite"
    }

    /// Writes the backup; returns its schema version.
    static func run(database: AppDatabase, to path: String) throws -> Int {
        if access(path, F_OK) == 0 {
            throw Failure(description: "\(path) already exists (choose another name; a backup never overwrites)")
        }
        if let slash = path.lastIndex(of: "/") {
            let directory = String(path[..<slash])
            if !directory.isEmpty && mkdir(directory, 0o750) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
        let temporary = path + ".partial-\(getpid())"
        do {
            try database.connection.backup(toNewFile: temporary)
            let copy = try AppDatabase.open(path: temporary)
            let check = try copy.connection.firstRow("PRAGMA integrity_check") { row in row.text(0) }
            guard check == "ok" else {
                throw Failure(description: "the copy failed SQLite's integrity check: \(check ?? "no answer")")
            }
        } catch {
            unlink(temporary)
            if let failure = error as? Failure { throw failure }
            throw Failure(description: "cannot write \(path): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot rename the copy to \(path): \(reason)")
        }
        return try Migrator(database: AppDatabase.open(path: path)).appliedVersions().last ?? 0
    }
}
