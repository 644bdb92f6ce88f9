import Database
import Prefork
import RequestTracker

/// The audit's prefetch, run by job workers: each part of a session's students has its
/// devices read from RT (the student's RT user number, from the roster or by user name, then
/// the assets RT lists them as owner of) and stored in the session. A student already
/// prefetched is skipped, so a part tried again after its job worker died picks up where it was.
struct AuditPrefetch {
    static let groupKind = "audit-prefetch"
    static let partKind = "audit-prefetch-part"

    let database: AppDatabase
    let jobs: JobStore
    let client: RTClient?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run(_ job: ClaimedJob, progress: JobProgress) throws -> String {
        guard let client else {
            throw Failure(description: "Request Tracker is not configured (set RT_URL), so devices cannot be read")
        }
        guard let session = Int(try jobs.payload(job.id)) else {
            throw Failure(description: "the job names no session")
        }
        let students = try database.read { db in
            var students: [AuditStore.Student] = []
            try db.forEachRow(
                "SELECT \(AuditStore.studentColumns) FROM audit_students WHERE prefetch_job_id = ? ORDER BY student_id",
                [SQLValue(Int(job.id))]
            ) { students.append(AuditStore.student($0)) }
            return students
        }
        var done = students.filter(\.prefetched).count
        var devices = 0
        try jobs.progress(job.id, done: done, total: students.count)
        for student in students where !student.prefetched {
            progress.alive()
            let (found, note) = try self.devices(of: student, client: client)
            try store(session: session, student: student.studentID, devices: found, note: note)
            devices += found.count
            done += 1
            try jobs.progress(job.id, done: done)
        }
        return "\(students.count) students, \(devices) devices read from RT"
    }

    /// The student's devices in RT, and a note when RT does not know the student.
    func devices(of student: AuditStore.Student, client: RTClient) throws -> ([AuditStore.Device], String) {
        var number = student.rtUserID
        if number == nil {
            guard !student.username.isEmpty else { return ([], "no username or RT user number in the roster") }
            do {
                number = try client.userNumber(name: student.username)
            } catch  where error.kind == .notFound {
                return ([], "RT has no user named \(student.username)")
            } catch {
                throw Failure(description: "Request Tracker did not say who \(student.username) is: \(error)")
            }
        }
        do {
            var devices: [AuditStore.Device] = []
            for id in try client.assetIDs(query: "Owner = '\(number ?? 0)'") {
                let asset = try client.asset(id: id)
                devices.append(
                    AuditStore.Device(
                        studentID: student.studentID, assetID: asset.id, tag: asset.name,
                        description: [asset.customField("Type"), asset.customField("Model")].compactMap { $0 }
                            .joined(separator: " "), serial: asset.serial ?? ""))
            }
            return (devices, "")
        } catch {
            throw Failure(description: "Request Tracker did not list the devices of \(student.name): \(error)")
        }
    }

    func store(session: Int, student: String, devices: [AuditStore.Device], note: String) throws {
        try database.write { db in
            let key = [SQLValue(session), .text(student)]
            _ = try db.execute(
                "DELETE FROM audit_devices WHERE session_id = ? AND student_id = ? AND asset_id IS NOT NULL", key)
            for device in devices {
                _ = try db.execute(
                    """
                    INSERT INTO audit_devices (session_id, student_id, asset_id, tag, description, serial)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    key + [
                        SQLValue(device.assetID), .text(device.tag), .text(device.description), .text(device.serial),
                    ])
            }
            _ = try db.execute(
                "UPDATE audit_students SET prefetched = 1, prefetch_note = ? WHERE session_id = ? AND student_id = ?",
                [.text(note)] + key)
        }
    }
}
