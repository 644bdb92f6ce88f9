import Database

/// Returned devices. One check-in per device per local day: the UNIQUE (tag, checked_in_on)
/// constraint decides, so two workers racing on the same device cannot both record it.
struct CheckinStore: Sendable {
    enum Condition: String, CaseIterable, Sendable {
        case good, fair, damaged
    }

    /// Also the API's form of a check-in (snake-case members; the RT ids null until known).
    struct Checkin: Sendable, Encodable {
        var id: Int64
        var tag: String
        var student: String
        var condition: String
        var notes: String
        var checkedInOn: String
        var checkedInAt: String
        @Nullable var rtAssetID: Int?
        @Nullable var rtTicketID: Int?
        var rtStatus: String
        /// The signed-in user who recorded it ("" before sign-in existed).
        var checkedInBy: String
        /// The asset's owner in RT before the check-in changed it ("" until RT was read).
        var previousOwner = ""
        /// The asset's "Type" and "Serial Number" in RT, as read at check-in.
        var deviceType = ""
        var serial = ""
        /// Staff asked for a repair ticket whatever the condition.
        var ticketRequested = false
        /// The roster student who returned it (nil for a name typed by hand).
        @Nullable var studentID: String? = nil

        /// A damaged device always gets a ticket; any other when staff ask for one.
        var wantsTicket: Bool { condition == Condition.damaged.rawValue || ticketRequested }

        enum CodingKeys: String, CodingKey {
            case id, tag, student, condition, notes
            case checkedInOn = "checked_in_on"
            case checkedInAt = "checked_in_at"
            case rtAssetID = "rt_asset_id"
            case rtTicketID = "rt_ticket_id"
            case rtStatus = "rt_status"
            case checkedInBy = "checked_in_by"
            case previousOwner = "previous_owner"
            case deviceType = "device_type"
            case serial
            case ticketRequested = "ticket_requested"
            case studentID = "student_id"
        }
    }

    enum RecordResult {
        case recorded(Checkin)
        case duplicate(Checkin)
    }

    let database: AppDatabase

    /// The columns ``checkin(_:)`` reads, by position.
    static let columns =
        "id, tag, student, condition, notes, checked_in_on, checked_in_at, rt_asset_id, rt_ticket_id, rt_status, checked_in_by, previous_owner, "
        + "device_type, serial, ticket_requested, student_id"

    /// Records a check-in, or returns the one already recorded for this device today. The
    /// insert skips a conflicting row (on PostgreSQL it first waits for a racing insert of the
    /// same device to commit), so exactly one of any number of racing workers records it.
    func record(
        tag: String, student: String, studentID: String? = nil, condition: Condition, notes: String,
        ticket: Bool = false, by user: String, replacing replaced: Int64? = nil
    ) throws -> RecordResult {
        let now = Timestamp.now()
        return try database.write { db in
            if let replaced,
                let updated = try db.firstRow(
                    """
                    UPDATE checkins SET student = ?, student_id = ?, condition = ?, notes = ?, ticket_requested = ?,
                        checked_in_at = ?, checked_in_by = ?, rt_status = 'not sent'
                    WHERE id = ? AND tag = ? AND checked_in_on = ? RETURNING \(Self.columns)
                    """,
                    [
                        .text(student), SQLValue(studentID), .text(condition.rawValue), .text(notes),
                        SQLValue(ticket ? 1 : 0), .text(now.iso8601), .text(user), .int(replaced), .text(tag),
                        .text(now.localDate),
                    ], Self.checkin)
            {
                return .recorded(updated)
            }
            if let recorded = try db.firstRow(
                """
                INSERT INTO checkins (tag, student, student_id, condition, notes, checked_in_on, checked_in_at,
                    checked_in_by, ticket_requested)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tag, checked_in_on) DO NOTHING RETURNING \(Self.columns)
                """,
                [
                    .text(tag), .text(student), SQLValue(studentID), .text(condition.rawValue), .text(notes),
                    .text(now.localDate), .text(now.iso8601), .text(user), SQLValue(ticket ? 1 : 0),
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

    /// Marks a check-in as being sent to RT, before the first RT call: if the worker dies on
    /// the way, the row says RT may have been changed (and a retry reads RT first).
    func markSending(id: Int64) throws {
        try database.write { db in
            try db.execute("UPDATE checkins SET rt_status = 'sending' WHERE id = ?", [.int(id)])
        }
    }

    /// Saves what happened in Request Tracker for a check-in; what RT said of the asset fills
    /// the fields still empty (a retry does not forget the owner the first try saw). A check-in
    /// without a roster student gets the one whose username is the previous owner, if any.
    func setRequestTracker(id: Int64, result: CheckinSyncResult) throws {
        try database.write { db in
            try db.execute(
                """
                UPDATE checkins SET rt_asset_id = coalesce(?, rt_asset_id),
                    rt_ticket_id = coalesce(?, rt_ticket_id), rt_status = ?,
                    previous_owner = CASE WHEN previous_owner = '' THEN ? ELSE previous_owner END,
                    device_type = CASE WHEN ? <> '' THEN ? ELSE device_type END,
                    serial = CASE WHEN ? <> '' THEN ? ELSE serial END,
                    student_id = coalesce(student_id,
                        (SELECT s.student_id FROM students s WHERE s.username <> '' AND lower(s.username) = lower(?)))
                WHERE id = ?
                """,
                [
                    SQLValue(result.assetID), SQLValue(result.ticketID), .text(result.status),
                    .text(result.previousOwner), .text(result.deviceType), .text(result.deviceType),
                    .text(result.serial), .text(result.serial), .text(result.previousOwner), .int(id),
                ])
        }
    }

    /// Corrects a mistaken check-in (the RT changes it made stay: see the page).
    func correct(id: Int64, student: String, condition: Condition, notes: String, by user: String) throws -> Checkin? {
        try database.write { db in
            try db.firstRow(
                """
                UPDATE checkins SET student = ?, condition = ?, notes = ?, checked_in_by = ?
                WHERE id = ? RETURNING \(Self.columns)
                """, [.text(student), .text(condition.rawValue), .text(notes), .text(user), .int(id)], Self.checkin)
        }
    }

    /// Deletes a mistaken check-in; false when there was none.
    func delete(id: Int64) throws -> Bool {
        try database.write { db in
            try db.firstRow("DELETE FROM checkins WHERE id = ? RETURNING id", [.int(id)]) { $0.int(0) } != nil
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
            rtTicketID: row.optionalInt(8), rtStatus: row.text(9), checkedInBy: row.text(10),
            previousOwner: row.text(11), deviceType: row.text(12), serial: row.text(13),
            ticketRequested: row.int(14) != 0, studentID: row.optionalText(15))
    }
}
