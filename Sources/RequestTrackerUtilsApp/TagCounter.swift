import Database

#if canImport(Glibc)
    import Glibc
#endif

/// Setting the counter, and carrying over the old tool's sequence and history.
extension AssetTagStore {
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// The number of `tag` when it is this deployment's `PREFIX` followed by digits.
    func number(of tag: String) -> Int? {
        let tag = tag.uppercased()
        guard tag.hasPrefix(prefix.uppercased()) else { return nil }
        let digits = tag.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// Makes `tag` the next one issued; returns the previous next tag. Below or at the highest
    /// issued number it would issue a tag again, so that needs `force` (a tag already in the
    /// history is never issued twice: the insert refuses it).
    func setNext(_ tag: String, force: Bool) throws -> String {
        guard let next = number(of: tag), next >= 1 else {
            throw Refusal(
                description: "\(tag) is not a tag of this deployment: \(prefix) and a number, like \(format(42))")
        }
        return try database.write { db in
            let previous = try db.int("SELECT next_number FROM tag_counter WHERE id = 1") ?? 1
            let highest = try db.int("SELECT max(number) FROM asset_tags") ?? 0
            if next <= highest && !force {
                throw Refusal(
                    description: "\(format(next)) is not above the last issued tag, \(format(highest)): "
                        + "the counter would issue numbers again; give --force only if you know they are free")
            }
            try db.execute("UPDATE tag_counter SET next_number = ? WHERE id = 1", [SQLValue(next)])
            return format(previous)
        }
    }

    /// The tag of RT asset `assetID`: the one already linked to it, else the next number,
    /// linked in the same transaction (the unique link makes a retried call find it instead of
    /// using a second tag). `isNew` says which.
    func issue(forAsset assetID: Int, note: String, by user: String) throws -> (tag: IssuedTag, isNew: Bool) {
        let issuedAt = Timestamp.now().iso8601
        return try database.write { db in
            // The counter's row first: concurrent calls for one asset queue here, and the
            // second then sees the first one's link.
            guard
                var number = try db.int(
                    "UPDATE tag_counter SET next_number = next_number WHERE id = 1 RETURNING next_number")
            else { throw DatabaseError(.statement, "tag_counter has no row; run `request-tracker-utils migrate`") }
            if let existing = try db.firstRow(
                "SELECT number, tag, issued_at, note, issued_by FROM asset_tags WHERE rt_asset_id = ?",
                [SQLValue(assetID)], Self.issuedTag)
            {
                return (existing, false)
            }
            while true {
                let tag = IssuedTag(number: number, tag: format(number), issuedAt: issuedAt, note: note, issuedBy: user)
                let inserted = try db.firstRow(
                    """
                    INSERT INTO asset_tags (number, tag, issued_at, note, issued_by, rt_asset_id)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING number
                    """,
                    [
                        SQLValue(number), .text(tag.tag), .text(issuedAt), .text(note), .text(user),
                        SQLValue(assetID),
                    ]
                ) { $0.int(0) }
                number += 1
                if inserted != nil {
                    try db.execute("UPDATE tag_counter SET next_number = ? WHERE id = 1", [SQLValue(number)])
                    return (tag, true)
                }
            }
        }
    }

    static func issuedTag(_ row: Row) -> IssuedTag {
        IssuedTag(number: row.int(0), tag: row.text(1), issuedAt: row.text(2), note: row.text(3), issuedBy: row.text(4))
    }

    struct ImportOutcome: Equatable {
        var imported = 0
        var alreadyHere = 0
        var next = ""
    }

    /// Adds the old tool's confirmed tags to the history (linked to their RT asset) and moves
    /// the counter past them and past the old sequence; all in one transaction, and again
    /// without effect.
    func importLegacy(_ legacy: LegacyTags) throws -> ImportOutcome {
        try database.write { db in
            var outcome = ImportOutcome()
            for entry in legacy.confirmed {
                guard let number = number(of: entry.tag) else { continue }
                let inserted = try db.firstRow(
                    """
                    INSERT INTO asset_tags (number, tag, issued_at, note, issued_by, rt_asset_id)
                    VALUES (?, ?, ?, ?, '', ?) ON CONFLICT DO NOTHING RETURNING number
                    """,
                    [
                        SQLValue(number), .text(entry.tag), .text(entry.confirmedAt),
                        .text("from the old tool (RT asset \(entry.assetID))"), SQLValue(entry.assetID),
                    ]
                ) { $0.int(0) }
                if inserted == nil { outcome.alreadyHere += 1 } else { outcome.imported += 1 }
            }
            let highest = try db.int("SELECT max(number) FROM asset_tags") ?? 0
            let current = try db.int("SELECT next_number FROM tag_counter WHERE id = 1") ?? 1
            let next = max(current, highest + 1, legacy.nextNumber ?? 1)
            try db.execute("UPDATE tag_counter SET next_number = ? WHERE id = 1", [SQLValue(next)])
            outcome.next = format(next)
            return outcome
        }
    }
}

/// The old tool's files in its WORKING_DIR: `asset_tag_sequence.txt` (or
/// `asset_tag_sequence_<prefix>.txt`), the number of the next tag; and
/// `asset_tag_confirmations.log`, a line `<local ISO time> - Asset Tag: X, Request Tracker ID: Y`
/// per tag stuck on an asset.
struct LegacyTags: Equatable {
    struct Confirmed: Equatable {
        var tag: String
        var assetID: Int
        /// UTC, as the history stores it.
        var confirmedAt: String
    }

    var nextNumber: Int?
    var confirmed: [Confirmed] = []

    /// Reads the two files' texts (either may be absent); the error names the file, the line
    /// and what is wrong.
    static func parse(sequence: String?, sequenceName: String, log: String?, logName: String) -> Result<
        LegacyTags, AssetTagStore.Refusal
    > {
        var legacy = LegacyTags()
        if let sequence {
            guard let value = Int(sequence.trimmingSpaces()), value >= 0 else {
                return .failure(
                    .init(description: "\(sequenceName): expected one whole number, found \(sequence.prefix(40))"))
            }
            legacy.nextNumber = max(1, value)
        }
        for (index, line) in (log ?? "").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line).trimmingSpaces()
            if text.isEmpty { continue }
            guard let entry = confirmedLine(text) else {
                return .failure(
                    .init(
                        description: "\(logName) line \(index + 1): expected "
                            + "'<time> - Asset Tag: TAG, Request Tracker ID: N', found \(text.prefix(80))"))
            }
            legacy.confirmed.append(entry)
        }
        return .success(legacy)
    }

    private static func confirmedLine(_ line: String) -> Confirmed? {
        guard let dash = line.firstRange(of: " - Asset Tag: "),
            let idPart = line.firstRange(of: ", Request Tracker ID: "), dash.upperBound <= idPart.lowerBound
        else { return nil }
        let tag = String(line[dash.upperBound..<idPart.lowerBound]).trimmingSpaces().uppercased()
        guard !tag.isEmpty, let assetID = Int(String(line[idPart.upperBound...]).trimmingSpaces()),
            let at = utc(ofLocal: String(line[..<dash.lowerBound]))
        else { return nil }
        return Confirmed(tag: tag, assetID: assetID, confirmedAt: at)
    }

    /// `2025-10-08T14:23:45.123456` in this machine's time zone (Python's `isoformat()` as the
    /// old tool wrote it) as a UTC `iso8601` timestamp.
    static func utc(ofLocal text: String) -> String? {
        Timestamp(local: text)?.iso8601
    }
}
