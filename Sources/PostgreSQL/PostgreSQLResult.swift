import CPostgreSQL

/// The rows of a completed statement (`PGresult`, text format), freed (`PQclear`) when
/// released. Positions are zero-based; one outside the result traps, as an array index does.
public final class PostgreSQLResult {
    private let result: OpaquePointer
    public let rowCount: Int
    public let columnCount: Int

    init(_ result: OpaquePointer) {
        self.result = result
        rowCount = Int(PQntuples(result))
        columnCount = Int(PQnfields(result))
    }

    deinit {
        PQclear(result)
    }

    /// The rows an INSERT, UPDATE, DELETE, MERGE, SELECT, MOVE, FETCH or COPY touched
    /// (`PQcmdTuples`); 0 for other commands.
    public var affectedRows: Int {
        guard let digits = PQcmdTuples(result) else { return 0 }
        var count = 0
        while digits[count] != 0 { count += 1 }
        return Self.integer(UnsafeRawPointer(digits), count: count).map { Int($0) } ?? 0
    }

    public func isNull(_ row: Int, _ column: Int) -> Bool {
        checkPosition(row, column)
        return PQgetisnull(result, Int32(row), Int32(column)) != 0
    }

    /// The value's text form; nil when it is NULL.
    public func text(_ row: Int, _ column: Int) -> String? {
        guard !isNull(row, column), let value = PQgetvalue(result, Int32(row), Int32(column)) else { return nil }
        let count = Int(PQgetlength(result, Int32(row), Int32(column)))
        return String(decoding: UnsafeRawBufferPointer(start: value, count: count), as: UTF8.self)
    }

    /// The value read as a decimal integer (an optional sign, then digits), without making a
    /// String; nil when it is NULL, not an integer (`1.5`, `t`) or outside Int64.
    public func int(_ row: Int, _ column: Int) -> Int64? {
        guard !isNull(row, column), let value = PQgetvalue(result, Int32(row), Int32(column)) else { return nil }
        return Self.integer(UnsafeRawPointer(value), count: Int(PQgetlength(result, Int32(row), Int32(column))))
    }

    private func checkPosition(_ row: Int, _ column: Int) {
        precondition(row >= 0 && row < rowCount, "row \(row) outside the result's \(rowCount) rows")
        precondition(
            column >= 0 && column < columnCount, "column \(column) outside the result's \(columnCount) columns")
    }

    /// Decimal digits with an optional sign as Int64, accumulated negatively so that
    /// Int64.min parses too; nil for anything else or on overflow.
    static func integer(_ start: UnsafeRawPointer, count: Int) -> Int64? {
        let bytes = UnsafeRawBufferPointer(start: start, count: count)
        var index = 0
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        guard index < count else { return nil }
        var value: Int64 = 0
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(digit))
            guard !overflow1 && !overflow2 else { return nil }
            value = next
            index += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }
}
