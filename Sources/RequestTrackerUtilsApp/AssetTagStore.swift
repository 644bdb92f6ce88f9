import GRDB

/// Asset tags: `PREFIX` + the zero-padded number from the one `tag_counter` row. The counter
/// is read and advanced inside one `BEGIN IMMEDIATE` transaction together with the history
/// insert, so any number of workers issuing at once never share or skip a number.
struct AssetTagStore: Sendable {
    struct IssuedTag: Sendable {
        var number: Int
        var tag: String
        var issuedAt: String
        var note: String
    }

    let database: AppDatabase
    let prefix: String
    let padding: Int

    static let maximumBatch = 500

    func format(_ number: Int) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, padding - digits.count)) + digits
    }

    /// Issues `count` consecutive tags in one transaction.
    func issue(count: Int = 1, note: String = "") throws -> [IssuedTag] {
        precondition((1...Self.maximumBatch).contains(count))
        let issuedAt = Timestamp.now().iso8601
        return try database.write { db in
            guard let first = try Int.fetchOne(db, sql: "SELECT next_number FROM tag_counter WHERE id = 1") else {
                throw DatabaseError(message: "tag_counter has no row; run `request-tracker-utils migrate`")
            }
            try db.execute(sql: "UPDATE tag_counter SET next_number = ? WHERE id = 1", arguments: [first + count])
            var issued: [IssuedTag] = []
            for number in first..<(first + count) {
                let tag = IssuedTag(number: number, tag: format(number), issuedAt: issuedAt, note: note)
                try db.execute(
                    sql: "INSERT INTO asset_tags (number, tag, issued_at, note) VALUES (?, ?, ?, ?)",
                    arguments: [tag.number, tag.tag, tag.issuedAt, tag.note])
                issued.append(tag)
            }
            return issued
        }
    }

    /// The next tag that would be issued (for display only; issuing is what reserves it).
    func peekNext() throws -> String {
        try database.read { db in
            format(try Int.fetchOne(db, sql: "SELECT next_number FROM tag_counter WHERE id = 1") ?? 1)
        }
    }

    /// The most recently issued tags, newest first.
    func recent(limit: Int) throws -> [IssuedTag] {
        try database.read { db in
            // A cursor reads each row straight from the statement, and columns by position:
            // GRDB's lookup by name folds case on every call.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT number, tag, issued_at, note FROM asset_tags ORDER BY number DESC LIMIT ?",
                arguments: [limit])
            var tags: [IssuedTag] = []
            tags.reserveCapacity(limit)
            while let row = try rows.next() {
                tags.append(IssuedTag(number: row[0], tag: row[1], issuedAt: row[2], note: row[3]))
            }
            return tags
        }
    }

    /// How many tags have been issued.
    func count() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM asset_tags") ?? 0 }
    }
}
