import Database
import OpenSSLSupport

/// Who may sign in: local accounts (a password hash here) and directory accounts (recorded at
/// their first sign-in, their role taken from the directory each time), with API tokens.
/// No account exists until an operator makes one (`request-tracker-utils user add`).
struct AccountStore: Sendable {
    enum Role: String, CaseIterable, Sendable {
        case tech, teacher

        /// How pages name the role.
        var title: String { self == .tech ? "technology staff" : "teacher" }
    }

    struct Account: Sendable, Equatable {
        var id: Int
        var name: String
        var role: Role
        var source: String
        var disabled: Bool
        var createdAt: String
        var lastSignInAt: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let database: AppDatabase
    /// PBKDF2 iterations for new and changed passwords (the stored count verifies old ones).
    var iterations = PasswordHash.recommendedIterations

    static let columns = "id, name, role, source, disabled, created_at, last_sign_in_at"

    /// A user name: 1 to 64 characters, letters, digits and `.-_@`, stored in lower case.
    static func normalized(_ name: String) -> String? {
        let lowered = name.lowercased()
        guard (1...64).contains(lowered.count),
            lowered.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_@".unicodeScalars.contains($0)
            })
        else { return nil }
        return lowered
    }

    /// How many accounts exist (local and directory, enabled or not).
    func count() throws -> Int {
        try database.read { db in try db.int("SELECT count(*) FROM users") ?? 0 }
    }

    func find(_ name: String) throws -> Account? {
        guard let name = Self.normalized(name) else { return nil }
        return try database.read { db in
            try db.firstRow("SELECT \(Self.columns) FROM users WHERE name = ?", [.text(name)], Self.account)
        }
    }

    func list() throws -> [Account] {
        try database.read { db in
            var accounts: [Account] = []
            try db.forEachRow("SELECT \(Self.columns) FROM users ORDER BY name") { accounts.append(Self.account($0)) }
            return accounts
        }
    }

    /// Makes a local account; fails if the name is taken.
    func addLocal(_ name: String, role: Role, password: String) throws -> Account {
        guard let name = Self.normalized(name) else { throw Self.badName(name) }
        try Self.checkPassword(password)
        let hash = PasswordHash.make(password, iterations: iterations)
        do {
            return try database.write { db in
                try db.firstRow(
                    """
                    INSERT INTO users (name, role, source, password_hash, created_at) VALUES (?, ?, 'local', ?, ?)
                    RETURNING \(Self.columns)
                    """, [.text(name), .text(role.rawValue), .text(hash), .text(Timestamp.now().iso8601)],
                    Self.account)!
            }
        } catch let error as DatabaseError where error.kind == .constraint {
            throw Failure(description: "there is already a user named \(name) (see `user list`)")
        }
    }

    /// The account of a directory user who just signed in, made at their first sign-in; the
    /// role is the directory's, refreshed each time. A local account of the same name wins
    /// (nil: the name belongs to a local account, which must sign in with its own password).
    func recordDirectoryUser(_ name: String, role: Role) throws -> Account? {
        guard let name = Self.normalized(name) else { return nil }
        return try database.write { db -> Account? in
            if let existing = try db.firstRow(
                "SELECT \(Self.columns) FROM users WHERE name = ?", [.text(name)], Self.account)
            {
                guard existing.source == "directory", !existing.disabled else { return nil }
                try db.execute("UPDATE users SET role = ? WHERE id = ?", [.text(role.rawValue), SQLValue(existing.id)])
                var updated = existing
                updated.role = role
                return updated
            }
            return try db.firstRow(
                "INSERT INTO users (name, role, source, created_at) VALUES (?, ?, 'directory', ?) RETURNING \(Self.columns)",
                [.text(name), .text(role.rawValue), .text(Timestamp.now().iso8601)], Self.account)
        }
    }

    /// Sets a new password for a local account and ends its sessions.
    func setPassword(_ name: String, _ password: String) throws {
        try Self.checkPassword(password)
        let account = try existing(name)
        guard account.source == "local" else {
            throw Failure(description: "\(account.name) signs in with the directory; change the password there")
        }
        let hash = PasswordHash.make(password, iterations: iterations)
        try database.write { db in
            try db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [.text(hash), SQLValue(account.id)])
            try db.execute("DELETE FROM sessions WHERE user_id = ?", [SQLValue(account.id)])
        }
    }

    /// Disables (or enables) an account: it cannot sign in, its sessions end, its tokens stop working.
    func setDisabled(_ name: String, _ disabled: Bool) throws {
        let account = try existing(name)
        try database.write { db in
            try db.execute(
                "UPDATE users SET disabled = ? WHERE id = ?", [.int(disabled ? 1 : 0), SQLValue(account.id)])
            if disabled { try db.execute("DELETE FROM sessions WHERE user_id = ?", [SQLValue(account.id)]) }
        }
    }

    /// A new API token for `name`: returned once; only its SHA-256 is stored.
    func createToken(_ name: String) throws -> String {
        let account = try existing(name)
        let token = "rtu_" + Digest.hex(SecureRandom.bytes(24))
        try database.write { db in
            try db.execute(
                "INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)",
                [SQLValue(account.id), .text(Self.tokenHash(token)), .text(Timestamp.now().iso8601)])
        }
        return token
    }

    /// Revokes one token (given whole) or, with `all`, every token of `name`; returns how many.
    func revokeTokens(_ name: String, token: String?) throws -> Int {
        let account = try existing(name)
        return try database.write { db in
            if let token {
                return try db.execute(
                    "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND token_hash = ? AND revoked_at = ''",
                    [.text(Timestamp.now().iso8601), SQLValue(account.id), .text(Self.tokenHash(token))])
            }
            return try db.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = ''",
                [.text(Timestamp.now().iso8601), SQLValue(account.id)])
        }
    }

    /// The enabled account a bearer token belongs to, or nil.
    func account(forToken token: String) throws -> Account? {
        try database.readStatements { db in
            try db.firstRow(
                """
                SELECT u.id, u.name, u.role, u.source, u.disabled, u.created_at, u.last_sign_in_at
                FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = ? AND t.revoked_at = '' AND u.disabled = 0
                """, [.text(Self.tokenHash(token))], Self.account)
        }
    }

    /// The local account `name` if `password` is its password (nil otherwise, also for a
    /// disabled or directory account). Spends the same PBKDF2 time when there is no such
    /// account, so the answer's timing does not say which names exist.
    func verifyLocal(_ name: String, _ password: String) throws -> Account? {
        let found = try Self.normalized(name).flatMap { normalized in
            try database.readStatements { db in
                try db.firstRow(
                    "SELECT \(Self.columns), password_hash FROM users WHERE name = ?", [.text(normalized)]
                ) { row in (Self.account(row), row.text(7)) }
            }
        }
        guard let (account, hash) = found, account.source == "local", !hash.isEmpty else {
            _ = PasswordHash.verify(password, against: Self.timingDummy)
            return nil
        }
        guard PasswordHash.verify(password, against: hash), !account.disabled else { return nil }
        return account
    }

    private static let timingDummy = PasswordHash.make("timing dummy", iterations: PasswordHash.recommendedIterations)

    static func tokenHash(_ token: String) -> String { Digest.hex(Digest.sha256(Array(token.utf8))) }

    private func existing(_ name: String) throws -> Account {
        guard let account = try find(name) else {
            throw Failure(description: "there is no user named \(name) (see `user list`)")
        }
        return account
    }

    static func badName(_ name: String) -> Failure {
        Failure(description: "\"\(name)\" is not a user name: use 1 to 64 letters, digits and . - _ @")
    }

    static func checkPassword(_ password: String) throws {
        guard password.count >= 12 else {
            throw Failure(description: "the password is too short: use at least 12 characters (a passphrase is best)")
        }
        guard password.count <= 1024 else { throw Failure(description: "the password is longer than 1024 characters") }
    }

    static func account(_ row: Row) -> Account {
        Account(
            id: row.int(0), name: row.text(1), role: Role(rawValue: row.text(2)) ?? .teacher, source: row.text(3),
            disabled: row.int(4) != 0, createdAt: row.text(5), lastSignInAt: row.text(6))
    }
}
