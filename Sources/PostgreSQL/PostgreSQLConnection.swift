import CPostgreSQL

/// One blocking libpq connection (`PGconn`): open in the initializer, closed (`PQfinish`) when
/// released. Not thread-safe: one owner at a time, as a worker owns its connection.
///
/// Every call blocks until the server answers; bound it on the server side with
/// `options=-c statement_timeout=...` and the connection with `connect_timeout`. Notices
/// (`NOTICE: ... skipping`) are dropped, not printed on stderr as libpq does by default.
/// COPY is not supported.
public final class PostgreSQLConnection {
    private let connection: OpaquePointer
    /// Named prepared statements made on this connection: SQL text -> statement name.
    private var preparedStatements: [String: String] = [:]
    /// The number in the last statement name handed out; names are never reused on a
    /// connection, so a statement forgotten here but alive on the server cannot collide.
    private var lastStatementNumber = 0

    /// Connects with `PQconnectdbParams`: keywords and values as libpq documents them (host,
    /// port, dbname, user, password, sslmode, connect_timeout, options, application_name...);
    /// what is not given comes from libpq's defaults and environment (PGPASSWORD, ~/.pgpass).
    /// Blocks until connected or refused. Throws `.connection` with libpq's reason in one line.
    public init(parameters: [(String, String)]) throws(PostgreSQLError) {
        let keywords = parameters.map { Optional($0.0) }
        let values = parameters.map { Optional($0.1) }
        let connected = CStringArray.with(keywords, terminated: true) { _, keywords in
            CStringArray.with(values, terminated: true) { _, values in
                PQconnectdbParams(keywords, values, 0)
            }
        }
        let made: OpaquePointer?
        switch connected {
        case .success(.success(let pointer)): made = pointer
        case .failure(let nul):
            throw PostgreSQLError(kind: .connection, message: "connection keyword \(nul.index + 1) holds a NUL byte")
        case .success(.failure(let nul)):
            throw PostgreSQLError(
                kind: .connection,
                message: "the value of connection keyword \(keywords[nul.index] ?? "") holds a NUL byte")
        }
        guard let made else { throw PostgreSQLError(kind: .connection, message: "libpq: out of memory") }
        guard PQstatus(made) == CONNECTION_OK else {
            let error = PostgreSQLError(
                kind: .connection, message: PostgreSQLError.oneLine(String(cString: PQerrorMessage(made))))
            PQfinish(made)
            throw error
        }
        PQsetNoticeProcessor(made, cpostgresql_ignore_notice, nil)
        connection = made
    }

    deinit {
        PQfinish(connection)
    }

    /// True while libpq's status is `CONNECTION_OK`. libpq notices a lost connection only when
    /// it next talks to the server, so this can be true for a connection already gone.
    public var isOpen: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one statement with `$1...$n` text parameters (nil is NULL) and text results
    /// (`PQexecParams`). Throws for anything but a completed command or rows: `.connection`
    /// when the connection is bad afterwards, `.statement` otherwise.
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgreSQLError) -> PostgreSQLResult {
        let sent = CStringArray.with(parameters) { count, values in
            PQexecParams(connection, sql, count, nil, values, nil, nil, 0)
        }
        return try checked(sent)
    }

    /// As ``query(_:_:)``, through a named prepared statement made once per connection and
    /// SQL text (`PQprepare`, then `PQexecPrepared` each time). For SQL from a fixed set of
    /// texts (values go in parameters): the cache holds one statement per distinct text until
    /// ``reset()``. A statement the server no longer has (26000, after `DISCARD ALL`) or whose
    /// result columns changed (0A000, after `ALTER TABLE`) is made again on the next call.
    public func preparedQuery(_ sql: String, _ parameters: [String?] = []) throws(PostgreSQLError) -> PostgreSQLResult {
        let name = try preparedStatement(sql, parameterCount: parameters.count)
        let sent = CStringArray.with(parameters) { count, values in
            PQexecPrepared(connection, name, count, values, nil, nil, 0)
        }
        do {
            return try checked(sent)
        } catch {
            if error.sqlState == "26000" || error.sqlState == "0A000" { preparedStatements[sql] = nil }
            throw error
        }
    }

    /// Runs several statements given in one string, without parameters (`PQexec`), as a
    /// migration does. They run in one implicit transaction unless the text has its own
    /// BEGIN/COMMIT; the first failure stops the rest and is thrown.
    public func execute(_ sql: String) throws(PostgreSQLError) {
        _ = try checked(.success(PQexec(connection, sql)))
    }

    /// Reconnects with the same parameters (`PQreset`, blocking) and forgets the prepared
    /// statements, which died with the old session. Throws `.connection` if it fails.
    public func reset() throws(PostgreSQLError) {
        preparedStatements = [:]
        PQreset(connection)
        guard PQstatus(connection) == CONNECTION_OK else { throw failure(nil) }
    }

    private func preparedStatement(_ sql: String, parameterCount: Int) throws(PostgreSQLError) -> String {
        if let name = preparedStatements[sql] { return name }
        lastStatementNumber += 1
        let name = "s\(lastStatementNumber)"
        _ = try checked(.success(PQprepare(connection, name, sql, 0, nil)))
        preparedStatements[sql] = name
        return name
    }

    /// The result if the server completed the statement; else the failure, thrown.
    private func checked(_ sent: Result<OpaquePointer?, CStringArray.NULByte>) throws(PostgreSQLError)
        -> PostgreSQLResult
    {
        let result: OpaquePointer?
        switch sent {
        case .success(let pointer): result = pointer
        case .failure(let nul):
            throw PostgreSQLError(kind: .statement, message: "parameter $\(nul.index + 1) holds a NUL byte")
        }
        guard let result else { throw failure(nil) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return PostgreSQLResult(result)
        default:
            let error = failure(result)
            PQclear(result)
            throw error
        }
    }

    /// The error for a failed call: `.connection` if the connection is bad now. The message is
    /// the server's primary message, else libpq's text for the result or the connection.
    private func failure(_ result: OpaquePointer?) -> PostgreSQLError {
        let kind: PostgreSQLError.Kind = PQstatus(connection) == CONNECTION_OK ? .statement : .connection
        guard let result else {
            return PostgreSQLError(
                kind: kind, message: PostgreSQLError.oneLine(String(cString: PQerrorMessage(connection))))
        }
        let sqlState = PQresultErrorField(result, cpostgresql_diag_sqlstate()).map { String(cString: $0) }
        if let primary = PQresultErrorField(result, cpostgresql_diag_message_primary()) {
            return PostgreSQLError(
                kind: kind, sqlState: sqlState, message: PostgreSQLError.oneLine(String(cString: primary)))
        }
        let status = PQresultStatus(result)
        if status == PGRES_EMPTY_QUERY {
            return PostgreSQLError(kind: kind, message: "the statement is empty")
        }
        if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            return PostgreSQLError(kind: kind, message: "COPY is not supported")
        }
        var text = String(cString: PQresultErrorMessage(result))
        if text.isEmpty { text = String(cString: PQerrorMessage(connection)) }
        return PostgreSQLError(kind: kind, sqlState: sqlState, message: PostgreSQLError.oneLine(text))
    }
}
