/// A failure of a directory operation. ``message`` is one line for the log and never holds a
/// password: libldap puts none in its messages, and this module adds none (it names the URI,
/// the operation and, for a bind, the DN).
public struct LDAPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server cannot be reached or did not answer in time: connection refused, no
        /// route, the deadline passed (``LDAPOptions/timeoutSeconds``), a TLS handshake that
        /// failed for another reason than the certificate, the server busy or shutting down.
        case unavailable
        /// The server refused the DN and password (LDAP_INVALID_CREDENTIALS, 49), or the
        /// password was empty and the bind was refused here (an empty password would be an
        /// unauthenticated bind, which servers let "succeed").
        case invalidCredentials
        /// Verification of the server's certificate failed: not signed by a trusted CA
        /// (``LDAPOptions/caCertificateFile`` or the system's), expired, or not for the host
        /// name in the URI.
        case certificate
        /// Anything else: a bad URI, filter or DN, the server refusing the operation
        /// (insufficient access, confidentiality required...), a protocol error.
        case other
    }

    public var kind: Kind
    /// One line: what failed, where, and libldap's (and the server's) reason.
    public var message: String

    public var description: String { message }

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// Folds `text` to one line: whitespace runs (newlines included) to one space.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
