import Prefork
import Testing

@testable import RequestTrackerUtilsApp

#if canImport(Glibc)
    import Glibc
#endif

/// The per-worker history table of `GET /tags` is rendered again after any commit, by this
/// connection or another one (another worker), and reused while nothing changed.
@Suite struct TagHistoryTests {
    private func temporaryDatabasePath() -> String {
        "/tmp/tag-history-\(UInt64.random(in: 0...UInt64.max)).sqlite3"
    }

    @Test func renderedAgainAfterACommitHereOrElsewhere() throws {
        let path = temporaryDatabasePath()
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let here = try AppDatabase.open(path: path)
        _ = try Migrator(database: here).migrate()
        let elsewhere = try AppDatabase.open(path: path)
        let mine = AssetTagStore(database: here, prefix: "W12-", padding: 4)
        let theirs = AssetTagStore(database: elsewhere, prefix: "W12-", padding: 4)
        let history = TagHistory()

        let empty = try mine.read { try history.current($0) }
        #expect(empty.next == "W12-0001" && empty.rows.count == 0)
        #expect(try mine.read { try history.current($0) }.version == empty.version)

        _ = try theirs.issue(count: 2, note: "<b>cart</b>", by: "tech1")
        let afterTheirs = try mine.read { try history.current($0) }
        #expect(afterTheirs.version != empty.version)
        #expect(afterTheirs.next == "W12-0003")
        #expect(afterTheirs.rows.text.contains("W12-0002") && afterTheirs.rows.text.contains("&lt;b&gt;cart"))

        _ = try mine.issue(count: 1, by: "tech1")
        let afterMine = try mine.read { try history.current($0) }
        #expect(afterMine.next == "W12-0004" && afterMine.rows.text.hasPrefix("<tr><td class=\"tag\">W12-0003"))
        #expect(try mine.read { try history.current($0) }.version == afterMine.version)
    }
}
