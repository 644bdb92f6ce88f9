import PostgreSQL

extension Database {
    /// A PostgreSQL database at `uri`. Nothing connects here: the first statement does (so a
    /// worker boots while the server is down), and after a lost connection the next statement
    /// connects again. Every statement is bounded by `statementTimeoutMilliseconds` on the
    /// server, and connecting by `connectTimeoutSeconds` unless the URI sets `connect_timeout`.
    /// `password`, when given, is used unless the URI has one (else libpq's own sources:
    /// PGPASSWORD, ~/.pgpass).
    public static func postgresql(
        _ uri: PostgreSQLURI, password: String? = nil, statementTimeoutMilliseconds: Int, connectTimeoutSeconds: Int,
        applicationName: String
    ) -> Database {
        var parameters = uri.parameters.map { ($0.keyword, $0.value) }
        func has(_ keyword: String) -> Bool { parameters.contains { $0.0 == keyword } }
        if let password, !password.isEmpty, !has("password") { parameters.append(("password", password)) }
        if !has("connect_timeout") { parameters.append(("connect_timeout", String(connectTimeoutSeconds))) }
        if !has("application_name") { parameters.append(("application_name", applicationName)) }
        let timeout = "-c statement_timeout=\(statementTimeoutMilliseconds)"
        if let index = parameters.firstIndex(where: { $0.0 == "options" }) {
            parameters[index].1 += " " + timeout
        } else {
            parameters.append(("options", timeout))
        }
        return Database(
            .postgresql(PostgreSQLSession(parameters: parameters, location: uri.redacted)), location: uri.redacted)
    }
}

/// A PostgreSQL connection that opens on first use and again after it was lost.
final class PostgreSQLSession {
    private let parameters: [(String, String)]
    private let location: String
    private var connection: PostgreSQLConnection?
    private var inTransaction = false
    /// SQL with `?` parameters -> the same with `$1...$n`, made once per text.
    private var numbered: [String: String] = [:]

    init(parameters: [(String, String)], location: String) {
        self.parameters = parameters
        self.location = location
    }

    func run(_ sql: String, _ arguments: [SQLValue]) throws(DatabaseError) -> PostgreSQLResult {
        let text: String
        if let known = numbered[sql] {
            text = known
        } else {
            text = PlaceholderNumbering.numbered(sql)
            numbered[sql] = text
        }
        let values = arguments.map { argument -> String? in
            switch argument {
            case .int(let value): return String(value)
            case .text(let value): return value
            case .null: return nil
            }
        }
        let open = try connected()
        do { return try open.preparedQuery(text, values) } catch { throw failed(error) }
    }

    func script(_ sql: String) throws(DatabaseError) {
        let open = try connected()
        do { try open.execute(sql) } catch { throw failed(error) }
        switch sql {
        case _ where sql.hasPrefix("BEGIN"): inTransaction = true
        case "COMMIT", "ROLLBACK": inTransaction = false
        default: break
        }
    }

    func rollback() {
        guard inTransaction else { return }
        inTransaction = false
        guard let connection, connection.isOpen else { return }
        try? connection.execute("ROLLBACK")
    }

    private func connected() throws(DatabaseError) -> PostgreSQLConnection {
        if let connection, connection.isOpen { return connection }
        connection = nil
        inTransaction = false
        do {
            let made = try PostgreSQLConnection(parameters: parameters)
            connection = made
            return made
        } catch {
            throw DatabaseError(.unavailable, "cannot connect to the database \(location): \(error.message)")
        }
    }

    /// The error for a failed statement; a lost connection is dropped, for the next statement
    /// to open again.
    private func failed(_ error: PostgreSQLError) -> DatabaseError {
        if error.kind == .statement, connection?.isOpen == true { return DatabaseError(error) }
        connection = nil
        inTransaction = false
        return DatabaseError(
            .unavailable,
            "the connection to the database \(location) was lost (\(error.message)); the next request reconnects")
    }
}

/// `?` parameters written as PostgreSQL's `$1...$n`, skipping quoted text and identifiers.
enum PlaceholderNumbering {
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 8)
        var quote: Character?
        var count = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                count += 1
                result += "$\(count)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}
