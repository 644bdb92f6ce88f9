import CSQLite

/// A failed SQLite call: the result code and SQLite's message, in one line.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...); `primaryCode` is its low byte.
    public var code: Int32
    public var message: String

    public var primaryCode: Int32 { code & 0xff }
    /// Another connection holds the lock past the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    /// A UNIQUE, CHECK, NOT NULL or foreign key constraint refused the change.
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }

    public var description: String { message }

    init(code: Int32, connection: OpaquePointer?) {
        self.code = code
        let text = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        self.message = text ?? String(cString: sqlite3_errstr(code))
    }

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }
}

/// One connection to a SQLite database file: the one Swift wrapper of sqlite3. Not shared
/// between threads (a worker serves one request at a time); statements prepared through
/// ``statement(_:)`` are cached for the connection's life.
public final class SQLiteConnection {
    let handle: OpaquePointer
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (creating if asked) the file at `path`, with extended result codes.
    public init(path: String, create: Bool = true) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = SQLiteError(code: code, connection: handle)
            sqlite3_close_v2(handle)
            throw error
        }
        sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// How long a statement waits for another connection's lock before failing with SQLITE_BUSY:
    /// it retries every 250 µs (not SQLite's own waits of up to 100 ms, which let a busy holder
    /// starve the waiter; see the shim).
    public func setBusyTimeout(milliseconds: Int32) {
        csqlite_set_busy_retry(handle, milliseconds)
    }

    /// Runs one or more statements that return no rows (a migration, a pragma).
    public func execute(_ sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw SQLiteError(code: code, connection: handle) }
    }

    /// The prepared statement for `sql`, made once per connection and reset for reuse.
    public func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try SQLiteStatement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Rows changed by INSERT, UPDATE and DELETE on this connection since it opened.
    public var totalChanges: Int { Int(sqlite3_total_changes64(handle)) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    /// Whether a transaction is open (not in autocommit mode).
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Copies the whole database into `destination` with SQLite's online backup API: a
    /// consistent snapshot even while other connections write.
    public func backup(to destination: SQLiteConnection) throws(SQLiteError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw SQLiteError(code: sqlite3_errcode(destination.handle), connection: destination.handle)
        }
        var code: Int32
        repeat {
            code = sqlite3_backup_step(backup, -1)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while code == SQLITE_OK || code == SQLITE_BUSY || code == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE else { throw SQLiteError(code: code, connection: destination.handle) }
    }
}

/// A prepared statement: bind parameters (1-based), step through rows, read columns (0-based).
public final class SQLiteStatement {
    let handle: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(connection: SQLiteConnection, sql: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else { throw SQLiteError(code: code, connection: connection.handle) }
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Ready to run again: the last run's rows dropped, bindings cleared to NULL.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    public func bind(_ index: Int32, int value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    public func bind(_ index: Int32, text value: String) {
        var value = value
        value.withUTF8 { bytes in
            guard let base = bytes.baseAddress else {
                sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
                return
            }
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { text in
                _ = sqlite3_bind_text(handle, index, text, Int32(bytes.count), csqlite_transient())
            }
        }
    }

    public func bindNull(_ index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    /// Runs to the next row: true when there is one, false when done.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let error = SQLiteError(code: code, connection: connection.handle)
            sqlite3_reset(handle)
            throw error
        }
    }

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The column as UTF-8 text, decoded once from SQLite's buffer ("" for NULL).
    public func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
