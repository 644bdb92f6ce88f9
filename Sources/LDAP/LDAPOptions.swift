/// Where and how to reach the directory server.
public struct LDAPOptions: Sendable {
    /// `ldap://host:port` or `ldaps://host:port` (several, space-separated, are tried in
    /// turn). The host is what the certificate is checked against.
    public var uri: String
    /// For `ldap://`: StartTLS before anything else is sent; a server that refuses it is an
    /// error, never a fallback to plain text. Ignored for `ldaps://` (TLS from the start).
    public var startTLS: Bool
    /// Verify the server's certificate (signed by a trusted CA, for the URI's host name).
    /// Off only for tests and for servers whose certificate cannot be fixed: the password
    /// then goes to whoever answers.
    public var verifyCertificate: Bool
    /// PEM file of the CA certificates to trust; nil: the system's (libldap's TLS_CACERT in
    /// /etc/ldap/ldap.conf on Debian).
    public var caCertificateFile: String?
    /// One deadline, counted from the connection's creation, for everything done on it:
    /// TCP connect, TLS handshake, StartTLS, bind and search. A connection is meant for one
    /// sign-in; an operation started after the deadline fails at once with `.unavailable`.
    public var timeoutSeconds: Double

    public init(
        uri: String, startTLS: Bool = false, verifyCertificate: Bool = true, caCertificateFile: String? = nil,
        timeoutSeconds: Double = 5
    ) {
        self.uri = uri
        self.startTLS = startTLS
        self.verifyCertificate = verifyCertificate
        self.caCertificateFile = caCertificateFile
        self.timeoutSeconds = timeoutSeconds
    }
}
