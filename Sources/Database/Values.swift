import PostgreSQL
import SQLite

/// A value bound to a `?` parameter.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null

    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(stringLiteral value: String) { self = .text(value) }
}

/// A database call that failed, in one line, with what kind of failure it was.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The database cannot be reached or opened (file, permissions, connection).
        case unavailable
        /// Another writer held the lock past the busy timeout.
        case busy
        /// A UNIQUE, CHECK or NOT NULL constraint refused the change.
        case constraint
        /// Anything else: bad SQL, a missing table before `migrate`, a damaged file.
        case statement
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    init(_ error: SQLiteError) {
        let kind: Kind = error.isBusy ? .busy : error.isConstraint ? .constraint : .statement
        self.init(kind, error.message)
    }

    init(_ error: PostgreSQLError) {
        let kind: Kind
        switch (error.kind, error.sqlState?.prefix(2)) {
        case (.connection, _): kind = .unavailable
        // Class 23: integrity constraint violation; 40: serialization failure or deadlock;
        // 55P03: lock_not_available; 57014: statement timeout.
        case (_, "23"?): kind = .constraint
        case (_, "40"?): kind = .busy
        case _ where error.sqlState == "55P03" || error.sqlState == "57014": kind = .busy
        default: kind = .statement
        }
        self.init(kind, error.message)
    }
}

/// Which state of the database a connection sees. Equal versions read on one connection mean
/// nothing was committed in between, by this connection or another (SQLite's `data_version`
/// plus the connection's own count of changed rows).
public struct DatabaseVersion: Equatable, Sendable {
    public var committedElsewhere: Int
    public var changedHere: Int

    public init(committedElsewhere: Int, changedHere: Int) {
        self.committedElsewhere = committedElsewhere
        self.changedHere = changedHere
    }
}
