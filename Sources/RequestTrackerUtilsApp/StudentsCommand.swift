import Logging
import Prefork
import PreforkCore
import SystemCalls

/// `request-tracker-utils students ...`: the roster from the command line, for a nightly timer
/// that imports the student information system's export. Exit codes: 0 done, 1 refused or
/// failed (one line on stderr: the file, the line and the reason; nothing changed), 2 a wrong
/// command line.
enum StudentsCommand {
    static let command = ApplicationCommand(
        name: "students",
        summary:
            "the roster: `students import FILE.csv [--dry-run]`, `students export` (CSV on stdout)",
        flags: ["--dry-run"], run: run)

    static let usage = "use `students import FILE.csv [--dry-run]` or `students export`"

    static func run(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        let dryRun = arguments.contains("--dry-run")
        let words = arguments.filter { $0 != "--dry-run" }
        guard (words.first == "import" && words.count == 2) || (words == ["export"] && !dryRun) else {
            AppCommands.fail("students: unexpected `\(arguments.joined(separator: " "))` (\(usage))")
            return 2
        }
        do {
            guard let database = try AppCommands.migratedDatabase(configuration, command: "students") else { return 1 }
            let store = StudentStore(database: database)
            if words[0] == "export" {
                try FileIO.writeAll(1, RosterCSV.write(try store.all()), context: "standard output")
                return 0
            }
            let path = words[1]
            let data: [UInt8]
            do {
                data = try FileIO.read(path)
            } catch {
                AppCommands.fail("students import: cannot read \(path): \(error) (check the path and its permissions)")
                return 1
            }
            let file: RosterCSV.File
            do {
                file = try RosterCSV.read(data)
            } catch {
                AppCommands.fail("students import: \(path) \(error.description); nothing was changed")
                return 1
            }
            let plan = dryRun ? try store.plan(file) : try store.importRoster(file)
            let ignored =
                file.ignoredColumns.isEmpty ? "" : " (columns ignored: \(file.ignoredColumns.joined(separator: ", ")))"
            print("\(dryRun ? "would import" : "imported") \(path): \(plan.summary)\(ignored)")
            return 0
        } catch {
            AppCommands.fail("students: \(error)")
            return 1
        }
    }
}
