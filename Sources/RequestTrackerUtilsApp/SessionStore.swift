import Database
import OpenSSLSupport

/// Signed-in sessions, kept in the application database so every worker on every host sees
/// them. The browser holds an opaque random id; the database holds only its SHA-256, so a copy
/// of the database does not let anyone in.
struct SessionStore: Sendable {
    struct Session: Sendable, Equatable {
        var account: AccountStore.Account
        /// The id's hash: what CSRF tokens are bound to.
        var idHash: String
    }

    let database: AppDatabase
    let policy: SessionPolicy
    /// Sessions this worker found, kept while the database is unchanged (SQLite only).
    let cache = SessionCache()

    /// A new session for `account`: returns the id for the cookie (shown once).
    func create(for account: AccountStore.Account, now: Int) throws -> String {
        let id = Digest.hex(SecureRandom.bytes(32))
        try database.write { db in
            try db.execute(
                "INSERT INTO sessions (id_hash, user_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
                [.text(Self.hash(id)), SQLValue(account.id), SQLValue(now), SQLValue(now)])
            try db.execute(
                "UPDATE users SET last_sign_in_at = ? WHERE id = ?",
                [.text(Timestamp(seconds: now).iso8601), SQLValue(account.id)])
        }
        return id
    }

    /// The session for a cookie's id, if it is valid now and its account enabled; an expired
    /// one is deleted. Records use at most once per `touchInterval`.
    func find(_ id: String, now: Int) throws -> Session? {
        guard id.utf8.count == 64 else { return nil }
        // On SQLite, asking whether anything changed is cheaper than the look-up (one pragma),
        // and any change at all, by any process, empties the cache: a session ended, an
        // account disabled or a password changed elsewhere takes effect on the next request.
        // On PostgreSQL both are a round trip, so it looks up each time.
        let version = database.backend == .sqlite ? try database.connection.version() : nil
        if let version, let cached = cache.lookUp(id, version: version) {
            switch policy.verdict(createdAt: cached.createdAt, seenAt: cached.seenAt, now: now) {
            case .valid(touch: false): return cached.session
            case .valid(touch: true), .expired: break  // the store decides and records it
            }
        }
        let idHash = Self.hash(id)
        let found = try database.readStatements { db in
            try db.firstRow(
                """
                SELECT u.id, u.name, u.role, u.source, u.disabled, u.created_at, u.last_sign_in_at,
                       s.created_at, s.seen_at
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?
                """, [.text(idHash)]
            ) { row in (AccountStore.account(row), row.int(7), row.int(8)) }
        }
        guard let (account, createdAt, seenAt) = found else { return nil }
        switch policy.verdict(createdAt: createdAt, seenAt: seenAt, now: now) {
        case .expired:
            try end(idHash: idHash)
            return nil
        case .valid(let touch):
            guard !account.disabled else { return nil }
            var seen = seenAt
            if touch {
                try database.connection.execute(
                    "UPDATE sessions SET seen_at = ? WHERE id_hash = ?", [SQLValue(now), .text(idHash)])
                seen = now
            }
            let session = Session(account: account, idHash: idHash)
            if version != nil, let current = try database.connection.version() {
                cache.store(id, .init(session: session, createdAt: createdAt, seenAt: seen), version: current)
            }
            return session
        }
    }

    /// Ends the session with this cookie id (signing out).
    func end(_ id: String) throws { try end(idHash: Self.hash(id)) }

    private func end(idHash: String) throws {
        try database.connection.execute("DELETE FROM sessions WHERE id_hash = ?", [.text(idHash)])
        cache.clear()
    }

    static func hash(_ id: String) -> String { Digest.hex(Digest.sha256(Array(id.utf8))) }
}

/// The sessions one worker has found, valid only for the database version they were read at.
/// A worker serves one request at a time, so there is no lock.
final class SessionCache: @unchecked Sendable {
    struct Entry {
        var session: SessionStore.Session
        var createdAt: Int
        var seenAt: Int
    }

    private var version: DatabaseVersion?
    private var entries: [String: Entry] = [:]
    /// Enough for the staff of a district on one worker; past it the cache starts again.
    static let capacity = 512

    func lookUp(_ id: String, version current: DatabaseVersion) -> Entry? {
        guard version == current else {
            clear()
            return nil
        }
        return entries[id]
    }

    func store(_ id: String, _ entry: Entry, version current: DatabaseVersion) {
        if version != current || entries.count >= Self.capacity { clear() }
        version = current
        entries[id] = entry
    }

    func clear() {
        version = nil
        entries.removeAll(keepingCapacity: true)
    }
}

/// Failed sign-ins, counted in the database per subject (`user:NAME`, `address:IP`) so the
/// limit holds across workers and hosts.
struct SignInThrottle: Sendable {
    let database: AppDatabase
    let policy: ThrottlePolicy

    /// Seconds the subjects must wait (the longest), or nil when a try is allowed.
    func wait(_ subjects: [String], now: Int) throws -> Int? {
        var longest: Int?
        for subject in subjects {
            var failures: [Int] = []
            try database.readStatements { db in
                try db.forEachRow(
                    "SELECT failed_at FROM sign_in_failures WHERE subject = ? AND failed_at > ?",
                    [.text(subject), SQLValue(now - policy.window)]
                ) { failures.append($0.int(0)) }
            }
            if let wait = policy.wait(failures: failures, now: now) { longest = max(longest ?? 0, wait) }
        }
        return longest
    }

    /// Records one failure for each subject, and forgets failures older than the window.
    func recordFailure(_ subjects: [String], now: Int) throws {
        try database.write { db in
            for subject in subjects {
                try db.execute(
                    "INSERT INTO sign_in_failures (subject, failed_at) VALUES (?, ?)", [.text(subject), SQLValue(now)])
            }
            try db.execute("DELETE FROM sign_in_failures WHERE failed_at <= ?", [SQLValue(now - policy.window)])
        }
    }
}
