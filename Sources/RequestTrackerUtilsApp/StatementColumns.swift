import GRDB
import GRDBSQLite

/// The current row of a statement GRDB is stepping through, read in place: text columns as
/// the UTF-8 bytes SQLite holds (valid until the next step), integers as they are. For pages
/// that list many rows, where decoding every column into a `String` was most of the cost.
struct StatementColumns {
    let statement: Statement

    func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(statement.sqliteStatement, index)) }

    /// The column's text as UTF-8 bytes (empty for NULL).
    func text(_ index: Int32) -> UnsafeRawBufferPointer {
        // sqlite3_column_text before sqlite3_column_bytes, as SQLite documents, so the count is
        // that of the UTF-8 form.
        guard let bytes = sqlite3_column_text(statement.sqliteStatement, index) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement.sqliteStatement, index)))
    }

    func string(_ index: Int32) -> String { String(decoding: text(index), as: UTF8.self) }
}

extension Database {
    /// Runs the cached statement for `sql` with `arguments`, calling `body` with each row's
    /// columns. The statement is prepared once per connection (so once per worker).
    func forEachRow(
        cached sql: String, arguments: StatementArguments, _ body: (StatementColumns) throws -> Void
    ) throws {
        let statement = try cachedStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        let columns = StatementColumns(statement: statement)
        while try rows.next() != nil { try body(columns) }
    }
}
