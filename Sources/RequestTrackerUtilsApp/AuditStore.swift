import Database

/// Device audits: a session copies the active roster; each student's devices in RT are
/// prefetched by job workers; teachers mark each device and each student; every change is in
/// the session's change log. A locked or closed session changes no more.
struct AuditStore: Sendable {
    let database: AppDatabase

    struct Session: Sendable, Equatable {
        var id: Int
        var name: String
        var state: AuditRules.SessionState
        var prefetchJobID: Int?
        var createdBy: String
        var createdAt: String
        var students = 0
        var audited = 0
    }

    /// A student as the session copied them from the roster, with the audit's marks.
    @dynamicMemberLookup
    struct Student: Sendable, Equatable {
        var roster: RosterCSV.Student
        var prefetched: Bool
        var prefetchNote: String
        var audited: Bool
        var auditedBy: String
        var auditedAt: String?
        var note: String

        var name: String { "\(roster.firstName) \(roster.lastName)" }

        subscript<Value>(dynamicMember field: KeyPath<RosterCSV.Student, Value>) -> Value { roster[keyPath: field] }
    }

    struct Device: Sendable, Equatable {
        var id = 0
        var studentID: String
        var assetID: Int?
        var tag: String
        var description: String
        var serial: String
        var status = ""
        var note = ""
        var updatedBy = ""
        var updatedAt: String? = nil
    }

    struct Change: Sendable, Equatable {
        var at: String
        var actor: String
        var studentID: String
        var what: String
    }

    static let sessionColumns = """
        s.id, s.name, s.state, s.prefetch_job_id, s.created_by, s.created_at,
        (SELECT count(*) FROM audit_students a WHERE a.session_id = s.id),
        (SELECT count(*) FROM audit_students a WHERE a.session_id = s.id AND a.audited = 1)
        """

    static func session(_ row: Row) -> Session {
        Session(
            id: row.int(0), name: row.text(1), state: AuditRules.SessionState(rawValue: row.text(2)) ?? .closed,
            prefetchJobID: row.optionalInt(3), createdBy: row.text(4), createdAt: row.text(5), students: row.int(6),
            audited: row.int(7))
    }

    static let studentColumns = """
        student_id, first_name, last_name, username, grade, advisor, rt_user_id, prefetched, prefetch_note,
        audited, audited_by, audited_at, note
        """

    static func student(_ row: Row) -> Student {
        Student(
            roster: RosterCSV.Student(
                studentID: row.text(0), firstName: row.text(1), lastName: row.text(2), username: row.text(3),
                grade: row.text(4), advisor: row.text(5), rtUserID: row.optionalInt(6), active: true),
            prefetched: row.int(7) != 0,
            prefetchNote: row.text(8), audited: row.int(9) != 0, auditedBy: row.text(10),
            auditedAt: row.optionalText(11),
            note: row.text(12))
    }

    static let deviceColumns =
        "id, student_id, asset_id, tag, description, serial, status, note, updated_by, updated_at"

    static func device(_ row: Row) -> Device {
        Device(
            id: row.int(0), studentID: row.text(1), assetID: row.optionalInt(2), tag: row.text(3),
            description: row.text(4), serial: row.text(5), status: row.text(6), note: row.text(7),
            updatedBy: row.text(8), updatedAt: row.optionalText(9))
    }

    // MARK: Sessions

    /// A session of every active student, with the prefetch of their RT devices as a group of
    /// jobs of at most `partSize` students each (none without RT), in one transaction.
    func create(name: String, by actor: String, prefetch: Bool, partSize: Int = 25) throws -> Session {
        try database.write { db in
            let now = Timestamp.now().iso8601
            let id =
                try db.firstRow(
                    "INSERT INTO audit_sessions (name, created_by, created_at) VALUES (?, ?, ?) RETURNING id",
                    [.text(name), .text(actor), .text(now)]
                ) { $0.int(0) } ?? 0
            let copied = try db.execute(
                """
                INSERT INTO audit_students (session_id, student_id, first_name, last_name, username, grade, advisor,
                    rt_user_id, prefetch_note)
                SELECT ?, student_id, first_name, last_name, username, grade, advisor, rt_user_id, ?
                FROM students WHERE active = 1
                """, [SQLValue(id), .text(prefetch ? "" : "Request Tracker is not configured")])
            var ids: [String] = []
            try db.forEachRow(
                "SELECT student_id FROM audit_students WHERE session_id = ? ORDER BY student_id", [SQLValue(id)]
            ) { ids.append($0.text(0)) }
            if prefetch && !ids.isEmpty {
                let group = try JobStore.enqueue(
                    db, kind: AuditPrefetch.groupKind, payload: "\(id)", total: ids.count, createdBy: actor,
                    state: .group)
                for start in stride(from: 0, to: ids.count, by: partSize) {
                    let part = ids[start..<min(ids.count, start + partSize)]
                    let job = try JobStore.enqueue(
                        db, kind: AuditPrefetch.partKind, payload: "\(id)", total: part.count, createdBy: actor,
                        parent: group)
                    for studentID in part {
                        _ = try db.execute(
                            "UPDATE audit_students SET prefetch_job_id = ? WHERE session_id = ? AND student_id = ?",
                            [SQLValue(job), SQLValue(id), .text(studentID)])
                    }
                }
                _ = try db.execute(
                    "UPDATE audit_sessions SET prefetch_job_id = ? WHERE id = ?", [SQLValue(group), SQLValue(id)])
            }
            try log(db, session: id, actor: actor, "created the session \"\(name)\" with \(copied) students")
            return try db.firstRow(
                "SELECT \(Self.sessionColumns) FROM audit_sessions s WHERE s.id = ?", [SQLValue(id)], Self.session)!
        }
    }

    func sessions() throws -> [Session] {
        try database.read { db in
            var sessions: [Session] = []
            try db.forEachRow("SELECT \(Self.sessionColumns) FROM audit_sessions s ORDER BY s.id DESC") {
                sessions.append(Self.session($0))
            }
            return sessions
        }
    }

    func session(_ id: Int) throws -> Session? {
        try database.read { db in
            try db.firstRow(
                "SELECT \(Self.sessionColumns) FROM audit_sessions s WHERE s.id = ?", [SQLValue(id)], Self.session)
        }
    }

    /// Lock, unlock, close or rename (the caller checked the rules); logged.
    func update(_ session: Session, state: AuditRules.SessionState? = nil, name: String? = nil, by actor: String) throws
    {
        try database.write { db in
            if let state {
                _ = try db.execute(
                    "UPDATE audit_sessions SET state = ?, closed_at = ? WHERE id = ?",
                    [
                        .text(state.rawValue), state == .closed ? .text(Timestamp.now().iso8601) : .null,
                        SQLValue(session.id),
                    ])
                try log(db, session: session.id, actor: actor, "\(state.verb) the session")
            }
            if let name {
                _ = try db.execute(
                    "UPDATE audit_sessions SET name = ? WHERE id = ?", [.text(name), SQLValue(session.id)])
                try log(
                    db, session: session.id, actor: actor, "renamed the session from \"\(session.name)\" to \"\(name)\""
                )
            }
        }
    }

    /// Deletes the session with its students, devices, change log and prefetch jobs.
    func delete(_ session: Session) throws {
        try database.write { db in
            let id = [SQLValue(session.id)]
            for table in ["audit_devices", "audit_students", "audit_changes"] {
                _ = try db.execute("DELETE FROM \(table) WHERE session_id = ?", id)
            }
            if let job = session.prefetchJobID {
                _ = try db.execute("DELETE FROM jobs WHERE id = ? OR parent_id = ?", [SQLValue(job), SQLValue(job)])
            }
            _ = try db.execute("DELETE FROM audit_sessions WHERE id = ?", id)
        }
    }

    // MARK: Students and devices

    func students(_ session: Int) throws -> [Student] {
        try database.read { db in
            var students: [Student] = []
            try db.forEachRow(
                "SELECT \(Self.studentColumns) FROM audit_students WHERE session_id = ? ORDER BY last_name, first_name",
                [SQLValue(session)]
            ) { students.append(Self.student($0)) }
            return students
        }
    }

    func student(_ session: Int, _ studentID: String) throws -> Student? {
        try database.read { db in
            try db.firstRow(
                "SELECT \(Self.studentColumns) FROM audit_students WHERE session_id = ? AND student_id = ?",
                [SQLValue(session), .text(studentID)], Self.student)
        }
    }

    /// The devices of one student (`studentID`), or of the whole session.
    func devices(_ session: Int, studentID: String? = nil) throws -> [Device] {
        try database.read { db in
            var devices: [Device] = []
            var sql = "SELECT \(Self.deviceColumns) FROM audit_devices WHERE session_id = ?"
            var arguments = [SQLValue(session)]
            if let studentID {
                sql += " AND student_id = ?"
                arguments.append(.text(studentID))
            }
            try db.forEachRow(sql + " ORDER BY student_id, id", arguments) { devices.append(Self.device($0)) }
            return devices
        }
    }

    func changes(_ session: Int, limit: Int = 200) throws -> [Change] {
        try database.read { db in
            var changes: [Change] = []
            try db.forEachRow(
                "SELECT at, actor, student_id, what FROM audit_changes WHERE session_id = ? ORDER BY id DESC LIMIT ?",
                [SQLValue(session), SQLValue(limit)]
            ) { changes.append(Change(at: $0.text(0), actor: $0.text(1), studentID: $0.text(2), what: $0.text(3))) }
            return changes
        }
    }

    /// Marks one device (correct, missing, extra) with a note; logged.
    func mark(_ session: Int, device: Device, status: AuditRules.DeviceStatus, note: String, by actor: String) throws {
        try database.write { db in
            _ = try db.execute(
                "UPDATE audit_devices SET status = ?, note = ?, updated_by = ?, updated_at = ? WHERE id = ? AND session_id = ?",
                [
                    .text(status.rawValue), .text(note), .text(actor), .text(Timestamp.now().iso8601),
                    SQLValue(device.id), SQLValue(session),
                ])
            let noted = note.isEmpty ? "" : " (\(note))"
            try log(
                db, session: session, actor: actor, student: device.studentID,
                "marked \(device.tag.isEmpty ? "a device" : device.tag) \(status.rawValue)\(noted)")
        }
    }

    /// A device found with the student that RT does not list for them.
    func addFound(_ session: Int, studentID: String, tag: String, note: String, by actor: String) throws {
        try database.write { db in
            _ = try db.execute(
                """
                INSERT INTO audit_devices (session_id, student_id, tag, status, note, updated_by, updated_at)
                VALUES (?, ?, ?, 'extra', ?, ?, ?)
                """,
                [
                    SQLValue(session), .text(studentID), .text(tag), .text(note), .text(actor),
                    .text(Timestamp.now().iso8601),
                ])
            try log(
                db, session: session, actor: actor, student: studentID, "added \(tag), which RT does not list, as extra"
            )
        }
    }

    /// Marks the student audited (or not) with a note; logged.
    func markStudent(_ session: Int, studentID: String, audited: Bool, note: String, by actor: String) throws {
        try database.write { db in
            _ = try db.execute(
                """
                UPDATE audit_students SET audited = ?, audited_by = ?, audited_at = ?, note = ?
                WHERE session_id = ? AND student_id = ?
                """,
                [
                    SQLValue(audited ? 1 : 0), .text(audited ? actor : ""),
                    audited ? .text(Timestamp.now().iso8601) : .null, .text(note), SQLValue(session), .text(studentID),
                ])
            try log(
                db, session: session, actor: actor, student: studentID,
                audited ? "marked audited" : "marked not audited")
        }
    }

    func log(_ db: Database, session: Int, actor: String, student: String = "", _ what: String) throws {
        _ = try db.execute(
            "INSERT INTO audit_changes (session_id, at, actor, student_id, what) VALUES (?, ?, ?, ?, ?)",
            [SQLValue(session), .text(Timestamp.now().iso8601), .text(actor), .text(student), .text(what)])
    }
}
