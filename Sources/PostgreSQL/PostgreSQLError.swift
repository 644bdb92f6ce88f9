/// A failure of libpq: the connection could not be made or was lost, or the server refused a
/// statement. ``message`` is one line and never holds a password (libpq puts none in its
/// messages, and this module adds none).
public struct PostgreSQLError: Error, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Cannot connect, or the connection is gone: libpq's status was bad after the call.
        /// The connection needs ``PostgreSQLConnection/reset()`` (or a new one) before use.
        case connection
        /// The server (or libpq, before sending) refused this statement; the connection is
        /// still usable (inside a transaction, only for ROLLBACK until it ends).
        case statement
    }

    public var kind: Kind
    /// The SQLSTATE the server sent (`PG_DIAG_SQLSTATE`), e.g. "23505" unique violation,
    /// "57014" query canceled (statement_timeout); nil for errors libpq made itself.
    public var sqlState: String?
    /// One line: the server's primary message, or libpq's own message folded to one line.
    public var message: String

    public var description: String { message }

    public init(kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    /// libpq's multi-line message text as one line: each line's whitespace runs folded to one
    /// space, repeated lines dropped, and the lines joined with "; ". Lines libpq indents with
    /// a tab are its hints and continuations ("Is the server running on that host and
    /// accepting TCP/IP connections?"): they are left out unless nothing else is there.
    static func oneLine(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let main = lines.filter { !$0.hasPrefix("\t") }
        var folded: [String] = []
        for line in main.isEmpty ? lines : main {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let text = words.joined(separator: " ")
            if !text.isEmpty && !folded.contains(text) { folded.append(text) }
        }
        return folded.isEmpty ? "unknown libpq error" : folded.joined(separator: "; ")
    }
}
