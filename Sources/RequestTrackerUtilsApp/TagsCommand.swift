import Logging
import Prefork
import PreforkCore
import SystemCalls

/// `request-tracker-utils tags ...`: the counter, for a district whose tags already run.
/// Exit codes: 0 done, 1 refused or failed (one line on stderr saying why), 2 a wrong command
/// line.
enum TagsCommand {
    static let command = ApplicationCommand(
        name: "tags",
        summary:
            "asset tags: `tags next`, `tags set-next TAG [--force]`, `tags import-legacy DIR` (the old tool's files)",
        flags: ["--force"], run: run)

    static let usage = "use `tags next`, `tags set-next TAG [--force]` or `tags import-legacy DIR`"

    static func run(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        let force = arguments.contains("--force")
        let words = arguments.filter { $0 != "--force" }
        guard ["next", "set-next", "import-legacy"].contains(words.first ?? ""),
            words.count == (words.first == "next" ? 1 : 2), !force || words.first == "set-next"
        else {
            AppCommands.fail("tags: unexpected `\(arguments.joined(separator: " "))` (\(usage))")
            return 2
        }
        do {
            guard let database = try AppCommands.migratedDatabase(configuration, command: "tags") else { return 1 }
            let store = AssetTagStore(
                database: database, prefix: configuration[AppSettings.prefix],
                padding: configuration[AppSettings.padding])
            switch words[0] {
            case "next": print(try store.peekNext())
            case "set-next":
                let previous = try store.setNext(words[1], force: force)
                print("the next tag is \(try store.peekNext()) (it was \(previous))")
            default: return try importLegacy(from: words[1], into: store)
            }
            return 0
        } catch {
            AppCommands.fail("tags: \(error)")
            return 1
        }
    }

    private static func importLegacy(from directory: String, into store: AssetTagStore) throws -> Int32 {
        let prefixName = store.prefix.lowercased().trimmingSuffix("-")
        let sequenceNames = ["asset_tag_sequence_\(prefixName).txt", "asset_tag_sequence.txt"]
        let sequence = sequenceNames.lazy.compactMap { name in read(directory + "/" + name).map { (name, $0) } }.first
        let logName = "asset_tag_confirmations.log"
        let log = read(directory + "/" + logName)
        guard sequence != nil || log != nil else {
            AppCommands.fail(
                "tags import-legacy: \(directory) has neither \(sequenceNames.joined(separator: " nor ")) nor \(logName): "
                    + "give the old tool's WORKING_DIR")
            return 1
        }
        let parsed = LegacyTags.parse(
            sequence: sequence?.1, sequenceName: directory + "/" + (sequence?.0 ?? sequenceNames[1]), log: log,
            logName: directory + "/" + logName)
        let legacy: LegacyTags
        switch parsed {
        case .success(let value): legacy = value
        case .failure(let refusal):
            AppCommands.fail("tags import-legacy: \(refusal) (nothing was imported)")
            return 1
        }
        let outcome = try store.importLegacy(legacy)
        let other = legacy.confirmed.filter { store.number(of: $0.tag) == nil }.count
        var line = "imported \(outcome.imported) tag(s) from \(directory)"
        if outcome.alreadyHere > 0 { line += ", \(outcome.alreadyHere) already here" }
        if other > 0 { line += ", \(other) skipped (not \(store.prefix) and a number)" }
        print(line + "; the next tag is \(outcome.next)")
        if let width = legacy.confirmed.first.map({ $0.tag.count - store.prefix.count }), width > store.padding {
            print(
                "note: the old tags have \(width) digits and PADDING is \(store.padding): set PADDING=\(width) so new ones match"
            )
        }
        return 0
    }

    /// A file's text, or nil when it does not exist.
    private static func read(_ path: String) -> String? {
        guard let bytes = try? FileIO.read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
