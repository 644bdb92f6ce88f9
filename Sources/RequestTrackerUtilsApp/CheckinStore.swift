import Database

/// Returned devices. One check-in per device per local day: the UNIQUE (tag, checked_in_on)
/// constraint decides, so two workers racing on the same device cannot both record it.
struct CheckinStore: Sendable {
    enum Condition: String, CaseIterable, Sendable {
        case good, fair, damaged
    }

    struct Checkin: Sendable {
        var id: Int64
        var tag: String
        var student: String
        var condition: String
        var notes: String
        var checkedInOn: String
        var checkedInAt: String
        var rtAssetID: Int?
        var rtTicketID: Int?
        var rtStatus: String
        /// The signed-in user who recorded it ("" before sign-in existed).
        var checkedInBy: String
    }

    enum RecordResult {
        case recorded(Checkin)
        case duplicate(Checkin)
    }

    let database: AppDatabase

    /// The columns ``checkin(_:)`` reads, by position.
    static let columns =
        "id, tag, student, condition, notes, checked_in_on, checked_in_at, rt_asset_id, rt_ticket_id, rt_status, checked_in_by"

    /// Records a check-in, or returns the one already recorded for this device today. The
    /// insert skips a conflicting row (on PostgreSQL it first waits for a racing insert of the
    /// same device to commit), so exactly one of any number of racing workers records it.
    func record(tag: String, student: String, condition: Condition, notes: String, by user: String) throws
        -> RecordResult
    {
        let now = Timestamp.now()
        return try database.write { db in
            if let recorded = try db.firstRow(
                """
                INSERT INTO checkins (tag, student, condition, notes, checked_in_on, checked_in_at, checked_in_by)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tag, checked_in_on) DO NOTHING RETURNING \(Self.columns)
                """,
                [
                    .text(tag), .text(student), .text(condition.rawValue), .text(notes), .text(now.localDate),
                    .text(now.iso8601), .text(user),
                ], Self.checkin)
            {
                return .recorded(recorded)
            }
            guard
                let existing = try db.firstRow(
                    "SELECT \(Self.columns) FROM checkins WHERE tag = ? AND checked_in_on = ?",
                    [.text(tag), .text(now.localDate)], Self.checkin)
            else { throw DatabaseError(.statement, "the check-in of \(tag) neither inserted nor found") }
            return .duplicate(existing)
        }
    }

    /// Saves what happened in Request Tracker for a check-in.
    func setRequestTracker(id: Int64, assetID: Int?, ticketID: Int?, status: String) throws {
        try database.write { db in
            try db.execute(
                """
                UPDATE checkins SET rt_asset_id = coalesce(?, rt_asset_id),
                    rt_ticket_id = coalesce(?, rt_ticket_id), rt_status = ? WHERE id = ?
                """,
                [SQLValue(assetID), SQLValue(ticketID), .text(status), .int(id)])
        }
    }

    func find(id: Int64) throws -> Checkin? {
        try database.read { db in
            try db.firstRow("SELECT \(Self.columns) FROM checkins WHERE id = ?", [.int(id)], Self.checkin)
        }
    }

    /// Check-ins from `from` to `to` (local dates, inclusive), newest first.
    func list(from: String, to: String, limit: Int = 10_000) throws -> [Checkin] {
        try database.read { db in
            var found: [Checkin] = []
            try db.forEachRow(
                """
                SELECT \(Self.columns) FROM checkins WHERE checked_in_on BETWEEN ? AND ?
                ORDER BY checked_in_at DESC, id DESC LIMIT ?
                """,
                [.text(from), .text(to), SQLValue(limit)]
            ) { row in found.append(Self.checkin(row)) }
            return found
        }
    }

    private static func checkin(_ row: Row) -> Checkin {
        Checkin(
            id: Int64(row.int(0)), tag: row.text(1), student: row.text(2), condition: row.text(3), notes: row.text(4),
            checkedInOn: row.text(5), checkedInAt: row.text(6), rtAssetID: row.optionalInt(7),
            rtTicketID: row.optionalInt(8), rtStatus: row.text(9), checkedInBy: row.text(10))
    }
}
