import Database

/// Asset tags: `PREFIX` + the zero-padded number from the one `tag_counter` row. The counter
/// is advanced inside one write transaction together with the history insert, so any number
/// of workers issuing at once never share or skip a number.
struct AssetTagStore: Sendable {
    /// Also the API's form of a tag (snake-case members).
    struct IssuedTag: Sendable, Encodable {
        var number: Int
        var tag: String
        var issuedAt: String
        var note: String
        /// The signed-in user who issued it ("" for tags issued before sign-in existed).
        var issuedBy: String

        enum CodingKeys: String, CodingKey {
            case number, tag
            case issuedAt = "issued_at"
            case note
            case issuedBy = "issued_by"
        }
    }

    let database: AppDatabase
    let prefix: String
    let padding: Int

    static let maximumBatch = 500

    func format(_ number: Int) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, padding - digits.count)) + digits
    }

    /// Issues `count` tags in one transaction: the next numbers, skipping any already in the
    /// history (after `tags set-next --force` or an import), so a tag is never issued twice.
    func issue(count: Int = 1, note: String = "", by user: String) throws -> [IssuedTag] {
        precondition((1...Self.maximumBatch).contains(count))
        let issuedAt = Timestamp.now().iso8601
        return try database.write { db in
            // Taking the counter's row first queues concurrent issuers (PostgreSQL's row lock;
            // SQLite's write lock is already held).
            guard
                var number = try db.int(
                    "UPDATE tag_counter SET next_number = next_number WHERE id = 1 RETURNING next_number")
            else {
                throw DatabaseError(.statement, "tag_counter has no row; run `request-tracker-utils migrate`")
            }
            var issued: [IssuedTag] = []
            while issued.count < count {
                let tag = IssuedTag(
                    number: number, tag: format(number), issuedAt: issuedAt, note: note, issuedBy: user)
                let inserted = try db.firstRow(
                    """
                    INSERT INTO asset_tags (number, tag, issued_at, note, issued_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING RETURNING number
                    """,
                    [SQLValue(tag.number), .text(tag.tag), .text(tag.issuedAt), .text(tag.note), .text(user)]
                ) { $0.int(0) }
                if inserted != nil { issued.append(tag) }
                number += 1
            }
            try db.execute("UPDATE tag_counter SET next_number = ? WHERE id = 1", [SQLValue(number)])
            return issued
        }
    }

    /// The next tag that would be issued (for display only; issuing is what reserves it).
    func peekNext() throws -> String {
        try read { try $0.peekNext() }
    }

    /// The most recently issued tags, newest first.
    func recent(limit: Int) throws -> [IssuedTag] {
        try read { reader in
            var tags: [IssuedTag] = []
            tags.reserveCapacity(limit)
            try reader.forEachRecent(limit: limit) { tag in tags.append(tag) }
            return tags
        }
    }

    /// Runs `body` with a reader for several reads in one database access. Each statement
    /// reads its own snapshot, with no transaction around them (see `readStatements`).
    func read<T>(_ body: (Reader) throws -> T) throws -> T {
        try database.readStatements { db in try body(Reader(store: self, db: db)) }
    }

    /// Reads through statements prepared once per connection (so once per worker).
    struct Reader {
        let store: AssetTagStore
        let db: Database

        /// The next tag that would be issued.
        func peekNext() throws -> String {
            store.format(try db.int("SELECT next_number FROM tag_counter WHERE id = 1") ?? 1)
        }

        /// Calls `row` with each of the `limit` most recently issued tags, newest first.
        func forEachRecent(limit: Int, _ row: (IssuedTag) throws -> Void) throws {
            try db.forEachRow(
                "SELECT number, tag, issued_at, note, issued_by FROM asset_tags ORDER BY number DESC LIMIT ?",
                [SQLValue(limit)]
            ) { next in
                try row(
                    IssuedTag(
                        number: next.int(0), tag: next.text(1), issuedAt: next.text(2), note: next.text(3),
                        issuedBy: next.text(4)))
            }
        }

        /// Which state of the database this reader sees (see ``DatabaseVersion``); nil where the
        /// backend cannot tell.
        func version() throws -> DatabaseVersion? { try db.version() }
    }

    /// How many tags have been issued.
    func count() throws -> Int {
        try database.read { db in try db.int("SELECT count(*) FROM asset_tags") ?? 0 }
    }
}
