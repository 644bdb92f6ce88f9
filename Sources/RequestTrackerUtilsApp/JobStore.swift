import Database
import Prefork
import PreforkCore

/// Jobs for the job workers, as rows of `jobs`: any HTTP worker enqueues one or answers how it
/// goes; a job worker claims the oldest waiting one, records its progress and its outcome.
/// A job whose job worker died is tried once more, then failed with the reason. A group is a
/// job of jobs (an audit's prefetch split in parts that job workers run in parallel): never
/// claimed itself, its progress and outcome are its parts'.
struct JobStore: Sendable {
    let database: AppDatabase

    /// A job runs at most this often: once, and once again if its job worker died.
    static let attempts = 2

    enum State: String, Sendable {
        case group, queued, running, done, failed
    }

    /// What `GET /api/jobs/ID` answers.
    struct Status: Sendable, Equatable, Encodable {
        var id: Int
        var kind: String
        var state: String
        var done: Int
        var total: Int
        var attempts: Int
        var message: String
        var parts: Int
        var createdBy: String
        var createdAt: String
        @Nullable var finishedAt: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, state, done, total, attempts, message, parts
            case createdBy = "created_by"
            case createdAt = "created_at"
            case finishedAt = "finished_at"
        }

        var finished: Bool { state == State.done.rawValue || state == State.failed.rawValue }
    }

    static let columns = "id, kind, state, done, total, attempts, message, created_by, created_at, finished_at"

    static func status(_ row: Row) -> Status {
        Status(
            id: row.int(0), kind: row.text(1), state: row.text(2), done: row.int(3), total: row.int(4),
            attempts: row.int(5), message: row.text(6), parts: 0, createdBy: row.text(7), createdAt: row.text(8),
            finishedAt: row.optionalText(9))
    }

    /// Adds a job waiting for a job worker (in the caller's transaction) and returns its id.
    static func enqueue(
        _ db: Database, kind: String, payload: String, total: Int, createdBy: String, parent: Int? = nil,
        state: State = .queued
    ) throws -> Int {
        try db.firstRow(
            """
            INSERT INTO jobs (kind, parent_id, payload, state, total, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .text(kind), parent.map { SQLValue($0) } ?? .null, .text(payload), .text(state.rawValue),
                SQLValue(total), .text(createdBy), .text(Timestamp.now().iso8601),
            ]
        ) { $0.int(0) } ?? 0
    }

    /// The job, with a group's figures summed over its parts.
    func status(_ id: Int) throws -> Status? {
        try database.read { db in
            guard
                var status = try db.firstRow(
                    "SELECT \(Self.columns) FROM jobs WHERE id = ?", [SQLValue(id)], Self.status)
            else { return nil }
            guard status.state == State.group.rawValue else { return status }
            var parts: [Status] = []
            try db.forEachRow("SELECT \(Self.columns) FROM jobs WHERE parent_id = ? ORDER BY id", [SQLValue(id)]) {
                parts.append(Self.status($0))
            }
            Self.summarize(&status, parts: parts)
            return status
        }
    }

    /// A group's state: failed or done once every part has finished (failed if one failed, with
    /// its reason), running once one has started, else queued.
    static func summarize(_ group: inout Status, parts: [Status]) {
        group.parts = parts.count
        group.done = parts.reduce(0) { $0 + $1.done }
        group.total = parts.reduce(0) { $0 + $1.total }
        group.attempts = parts.map(\.attempts).max() ?? 0
        let failed = parts.filter { $0.state == State.failed.rawValue }
        if parts.allSatisfy(\.finished) {
            group.state = failed.isEmpty ? State.done.rawValue : State.failed.rawValue
            group.finishedAt = parts.compactMap(\.finishedAt).max()
            // Done: the figures say it (each part's outcome is on its own job).
            group.message = failed.isEmpty ? "" : "part \(failed[0].id) failed: \(failed[0].message)"
        } else {
            let started = parts.contains { $0.state != State.queued.rawValue }
            group.state = started ? State.running.rawValue : State.queued.rawValue
            group.message = parts.first { $0.message.hasPrefix("retrying") }?.message ?? ""
        }
    }

    // MARK: The job worker's side

    /// Claims the oldest waiting job for `server`, or answers nil. A job two job workers reach
    /// at once goes to one of them: the update only takes a job still waiting.
    func claim(server: String, pid: Int32) throws -> ClaimedJob? {
        let waiting = try database.readStatements { db in
            try db.firstRow("SELECT id, kind FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1") {
                ClaimedJob(id: Int64($0.int(0)), kind: $0.text(1))
            }
        }
        guard let job = waiting else { return nil }
        let taken = try database.write { db in
            try db.execute(
                """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, server_id = ?, worker_pid = ?,
                    started_at = ?, message = '' WHERE id = ? AND state = 'queued'
                """,
                [.text(server), SQLValue(Int(pid)), .text(Timestamp.now().iso8601), SQLValue(Int(job.id))])
        }
        return taken == 1 ? job : nil
    }

    func payload(_ id: Int64) throws -> String {
        try database.read { db in
            try db.firstRow("SELECT payload FROM jobs WHERE id = ?", [SQLValue(Int(id))]) { $0.text(0) } ?? ""
        }
    }

    func progress(_ id: Int64, done: Int, total: Int? = nil) throws {
        _ = try database.write { db in
            if let total {
                try db.execute(
                    "UPDATE jobs SET done = ?, total = ? WHERE id = ?",
                    [SQLValue(done), SQLValue(total), SQLValue(Int(id))])
            } else {
                try db.execute("UPDATE jobs SET done = ? WHERE id = ?", [SQLValue(done), SQLValue(Int(id))])
            }
        }
    }

    func finish(_ id: Int64, _ state: State, message: String) throws {
        _ = try database.write { db in
            try db.execute(
                "UPDATE jobs SET state = ?, message = ?, finished_at = ?, worker_pid = NULL WHERE id = ?",
                [.text(state.rawValue), .text(message), .text(Timestamp.now().iso8601), SQLValue(Int(id))])
        }
    }

    /// Jobs whose job worker died (`orphans`, from the master) or whose server stopped while they
    /// ran (still running under another server of this host): each is queued again if it has
    /// run once, else failed with the reason. Returns a log line per job.
    func recover(_ orphans: [OrphanedJob], server: String, host: String) throws -> [String] {
        try database.write { db in
            var lost = orphans.compactMap { orphan in Int(orphan.id).map { ($0, orphan.reason) } }
            try db.forEachRow(
                "SELECT id FROM jobs WHERE state = 'running' AND server_id <> ? AND server_id LIKE ?",
                [.text(server), .text(host + "/%")]
            ) { lost.append(($0.int(0), "the server stopped while it ran")) }
            var lines: [String] = []
            for (id, reason) in lost {
                guard
                    let attempts = try db.firstRow(
                        "SELECT attempts FROM jobs WHERE id = ? AND state = 'running'", [SQLValue(id)], { $0.int(0) })
                else { continue }
                let failed = attempts >= Self.attempts
                let message = failed ? "\(reason) (tried \(attempts) times)" : "retrying: \(reason)"
                _ = try db.execute(
                    "UPDATE jobs SET state = ?, message = ?, finished_at = ?, worker_pid = NULL WHERE id = ?",
                    [
                        .text(failed ? State.failed.rawValue : State.queued.rawValue), .text(message),
                        failed ? .text(Timestamp.now().iso8601) : .null, SQLValue(id),
                    ])
                lines.append("job \(id) \(failed ? "failed" : "queued again"): \(message)")
            }
            return lines
        }
    }
}
