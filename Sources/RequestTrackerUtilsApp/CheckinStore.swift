import GRDB

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
    }

    enum RecordResult {
        case recorded(Checkin)
        case duplicate(Checkin)
    }

    let database: AppDatabase

    /// The columns ``checkin(_:)`` reads, by position.
    static let columns =
        "id, tag, student, condition, notes, checked_in_on, checked_in_at, rt_asset_id, rt_ticket_id, rt_status"

    /// Records a check-in, or returns the one already recorded for this device today.
    func record(tag: String, student: String, condition: Condition, notes: String) throws -> RecordResult {
        let now = Timestamp.now()
        return try database.write { db in
            if let existing = try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM checkins WHERE tag = ? AND checked_in_on = ?",
                arguments: [tag, now.localDate])
            {
                return .duplicate(Self.checkin(existing))
            }
            try db.execute(
                sql: """
                    INSERT INTO checkins (tag, student, condition, notes, checked_in_on, checked_in_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [tag, student, condition.rawValue, notes, now.localDate, now.iso8601])
            let row = try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM checkins WHERE id = ?", arguments: [db.lastInsertedRowID])!
            return .recorded(Self.checkin(row))
        }
    }

    /// Saves what happened in Request Tracker for a check-in.
    func setRequestTracker(id: Int64, assetID: Int?, ticketID: Int?, status: String) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE checkins SET rt_asset_id = coalesce(?, rt_asset_id),
                        rt_ticket_id = coalesce(?, rt_ticket_id), rt_status = ? WHERE id = ?
                    """,
                arguments: [assetID, ticketID, status, id])
        }
    }

    func find(id: Int64) throws -> Checkin? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM checkins WHERE id = ?", arguments: [id]).map(
                Self.checkin)
        }
    }

    /// Check-ins from `from` to `to` (local dates, inclusive), newest first.
    func list(from: String, to: String, limit: Int = 10_000) throws -> [Checkin] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM checkins WHERE checked_in_on BETWEEN ? AND ?
                    ORDER BY checked_in_at DESC, id DESC LIMIT ?
                    """,
                arguments: [from, to, limit]
            ).map(Self.checkin)
        }
    }

    private static func checkin(_ row: Row) -> Checkin {
        Checkin(
            id: row[0], tag: row[1], student: row[2], condition: row[3], notes: row[4], checkedInOn: row[5],
            checkedInAt: row[6], rtAssetID: row[7], rtTicketID: row[8], rtStatus: row[9])
    }
}
