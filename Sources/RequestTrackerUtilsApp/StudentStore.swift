import Database

/// The student roster: one row per `student_id`, never deleted. An import makes the roster
/// what the file says in one transaction: new students added, changed ones updated, students
/// absent from the file made inactive (their check-ins and audits keep pointing at them).
struct StudentStore: Sendable {
    typealias Student = RosterCSV.Student
    let database: AppDatabase

    /// What an import changes, decided from the file and the roster as it stands (pure).
    struct Plan: Sendable, Equatable {
        var added: [Student] = []
        var updated: [Student] = []
        var deactivated: [String] = []
        var unchanged = 0

        /// `existing`: the roster now, by student_id.
        init(file: [Student], existing: [String: Student]) {
            var seen = Set<String>()
            for student in file {
                seen.insert(student.studentID)
                switch existing[student.studentID] {
                case nil: added.append(student)
                case let current? where current == student: unchanged += 1
                default: updated.append(student)
                }
            }
            deactivated = existing.values.filter { $0.active && !seen.contains($0.studentID) }.map(\.studentID).sorted()
        }

        var summary: String {
            "\(added.count) added, \(updated.count) updated, \(deactivated.count) made inactive, \(unchanged) unchanged"
        }
    }

    static let columns = "student_id, first_name, last_name, username, grade, advisor, rt_user_id, active"
    /// `columns` as `students.student_id, …`, for queries that join another table.
    static let qualifiedColumns = columns.split(separator: ", ").map { "students.\($0)" }.joined(separator: ", ")

    static func student(_ row: Row) -> Student {
        Student(
            studentID: row.text(0), firstName: row.text(1), lastName: row.text(2), username: row.text(3),
            grade: row.text(4), advisor: row.text(5), rtUserID: row.optionalInt(6), active: row.int(7) != 0)
    }

    /// Every student, active or not, by last and first name.
    func all() throws -> [Student] {
        try database.read { db in
            var students: [Student] = []
            try db.forEachRow("SELECT \(Self.columns) FROM students ORDER BY last_name, first_name, student_id") {
                students.append(Self.student($0))
            }
            return students
        }
    }

    /// The active roster with each student's latest check-in, read in one pass over the
    /// check-ins (a subquery per student made SQLite set up a sorter 5,000 times) (all check-ins ever recorded for
    /// them: a new school year starts from a new roster import's students, whose old check-ins
    /// still count until staff clear them; see docs/application.md).
    func status() throws -> RosterStatus {
        try database.read { db in
            var entries: [RosterStatus.Entry] = []
            try db.forEachRow(
                """
                SELECT \(Self.qualifiedColumns),
                    latest.tag, latest.last_on
                FROM students LEFT JOIN (
                    SELECT student_id, tag, max(checked_in_on) OVER (PARTITION BY student_id) AS last_on,
                        row_number() OVER (PARTITION BY student_id ORDER BY checked_in_at DESC, id DESC) AS n
                    FROM checkins WHERE student_id IS NOT NULL
                ) latest ON latest.student_id = students.student_id AND latest.n = 1
                WHERE students.active = 1
                """
            ) { row in
                entries.append(
                    RosterStatus.Entry(
                        student: Self.student(row), returnedTag: row.optionalText(8), returnedOn: row.optionalText(9)))
            }
            return RosterStatus(entries: entries)
        }
    }

    /// The student with `id`, active or not.
    func find(id: String) throws -> Student? {
        try database.read { db in
            try db.firstRow("SELECT \(Self.columns) FROM students WHERE student_id = ?", [.text(id)], Self.student)
        }
    }

    /// The roster student an RT user is: by username (without case), else by RT user number.
    func find(rtUser name: String, number: Int?) throws -> Student? {
        try database.read { db in
            if !name.isEmpty,
                let student = try db.firstRow(
                    "SELECT \(Self.columns) FROM students WHERE username <> '' AND lower(username) = lower(?)",
                    [.text(name)], Self.student)
            {
                return student
            }
            guard let number else { return nil }
            return try db.firstRow(
                "SELECT \(Self.columns) FROM students WHERE rt_user_id = ?", [SQLValue(number)], Self.student)
        }
    }

    /// The student's latest check-in of a device other than `tag`: (tag, local day).
    func returned(studentID: String, other tag: String) throws -> (tag: String, on: String)? {
        try database.read { db in
            try db.firstRow(
                """
                SELECT tag, checked_in_on FROM checkins WHERE student_id = ? AND tag <> ?
                ORDER BY checked_in_at DESC LIMIT 1
                """, [.text(studentID), .text(tag)]
            ) { ($0.text(0), $0.text(1)) }
        }
    }

    /// What importing `file` would change.
    func plan(_ file: RosterCSV.File) throws -> Plan {
        try database.read { db in try Plan(file: file.students, existing: Self.existing(db)) }
    }

    /// Imports `file` (the plan is made again inside the write transaction, so a preview
    /// confirmed after another import still applies exactly the file).
    @discardableResult
    func importRoster(_ file: RosterCSV.File, at now: Timestamp = .now()) throws -> Plan {
        try database.write { db in
            let plan = Plan(file: file.students, existing: try Self.existing(db))
            for student in plan.added {
                try db.execute(
                    """
                    INSERT INTO students (\(Self.columns), updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, Self.values(student) + [.text(now.iso8601)])
            }
            for student in plan.updated {
                try db.execute(
                    """
                    UPDATE students SET first_name = ?, last_name = ?, username = ?, grade = ?, advisor = ?,
                        rt_user_id = ?, active = ?, updated_at = ? WHERE student_id = ?
                    """, Array(Self.values(student).dropFirst()) + [.text(now.iso8601), .text(student.studentID)])
            }
            for id in plan.deactivated {
                try db.execute(
                    "UPDATE students SET active = 0, updated_at = ? WHERE student_id = ?",
                    [.text(now.iso8601), .text(id)])
            }
            return plan
        }
    }

    /// Keeps an uploaded file between its preview and the confirmation (any worker may serve
    /// either); uploads older than a day are dropped on the way.
    func saveUpload(_ content: String, filename: String, by user: String, at now: Timestamp = .now()) throws -> Int {
        try database.write { db in
            _ = try db.execute(
                "DELETE FROM roster_uploads WHERE uploaded_at < ?",
                [.text(Timestamp(seconds: now.seconds - 86_400).iso8601)])
            guard
                let id = try db.firstRow(
                    "INSERT INTO roster_uploads (content, filename, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?) RETURNING id",
                    [.text(content), .text(filename), .text(user), .text(now.iso8601)], { $0.int(0) })
            else { throw DatabaseError(.statement, "the upload was not saved") }
            return id
        }
    }

    func upload(id: Int) throws -> (content: String, filename: String)? {
        try database.read { db in
            try db.firstRow("SELECT content, filename FROM roster_uploads WHERE id = ?", [SQLValue(id)]) {
                ($0.text(0), $0.text(1))
            }
        }
    }

    func deleteUpload(id: Int) throws {
        try database.write { db in _ = try db.execute("DELETE FROM roster_uploads WHERE id = ?", [SQLValue(id)]) }
    }

    private static func values(_ student: Student) -> [SQLValue] {
        [
            .text(student.studentID), .text(student.firstName), .text(student.lastName), .text(student.username),
            .text(student.grade), .text(student.advisor), SQLValue(student.rtUserID), SQLValue(student.active ? 1 : 0),
        ]
    }

    private static func existing(_ db: Database) throws -> [String: Student] {
        var students: [String: Student] = [:]
        try db.forEachRow("SELECT \(columns) FROM students") { row in
            let student = Self.student(row)
            students[student.studentID] = student
        }
        return students
    }
}
