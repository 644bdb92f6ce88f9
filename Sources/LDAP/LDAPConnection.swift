import CLDAP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One blocking connection to a directory server through libldap (`LDAP *`), made for one
/// sign-in: connect (with TLS), bind as the user, search for the user's groups, release
/// (`ldap_unbind_ext`). Not thread-safe: one owner at a time, as a worker owns its request.
///
/// Every call blocks, but never past the one deadline of ``LDAPOptions/timeoutSeconds``
/// counted from ``init(_:)``: before each step the time left is given to libldap as its
/// network timeout (TCP connect, TLS handshake) and its operation timeout (waiting for the
/// answer), and to the server as the search's time limit. TLS settings are this connection's
/// own (`LDAP_OPT_X_TLS_NEWCTX`), so connections with other CA files or verification do not
/// share them. Referrals are not chased (Active Directory sends them for its DNS zones).
/// libldap writes with plain `write`; SIGPIPE is blocked in the calling thread around each
/// call (and one raised meanwhile discarded), so a server that closes the connection is an
/// error here, never a signal that ends the process.
public final class LDAPConnection {
    private let handle: OpaquePointer
    /// Ends a TLS handshake that is still running at the deadline (see shim.h).
    private let watchdog: UnsafeMutablePointer<cldap_watchdog>
    private let uri: String
    private let verifyCertificate: Bool
    private let timeoutSeconds: Double
    private let deadline: ContinuousClock.Instant

    /// `ldap_initialize` with the URI, then the options (LDAPv3, no referrals, TLS 1.2 or
    /// later, certificate verification, the CA file, a new TLS context), then StartTLS if
    /// asked for an `ldap://` URI. Without StartTLS nothing is sent yet: the first bind or
    /// search connects. Throws `.other` for a URI libldap refuses or TLS settings it cannot
    /// load (a CA file that is missing or not PEM), and StartTLS's failures.
    public init(_ options: LDAPOptions) throws(LDAPError) {
        guard options.timeoutSeconds > 0, options.timeoutSeconds.isFinite else {
            throw LDAPError(kind: .other, message: "the LDAP timeout must be a positive number of seconds")
        }
        deadline = .now + .seconds(options.timeoutSeconds)
        timeoutSeconds = options.timeoutSeconds
        uri = options.uri
        verifyCertificate = options.verifyCertificate
        guard !uri.utf8.contains(0) else {
            throw LDAPError(kind: .other, message: "the LDAP URI holds a NUL byte")
        }
        guard let watchdog = cldap_watchdog_new() else {
            throw LDAPError(kind: .other, message: "LDAP: out of memory")
        }
        var made: OpaquePointer?
        let code = ldap_initialize(&made, uri)
        guard code == LDAP_SUCCESS, let made else {
            cldap_watchdog_free(watchdog)
            throw LDAPError(kind: .other, message: "LDAP URI \(uri): \(Self.reason(code))")
        }
        handle = made
        self.watchdog = watchdog
        try configure(options)
        let isLDAPS = uri.lowercased().hasPrefix("ldaps://")
        if options.startTLS && !isLDAPS { try startTLS() }
    }

    deinit {
        let handle = handle
        Self.withSIGPIPEBlocked { _ = ldap_unbind_ext(handle, nil, nil) }
        cldap_watchdog_free(watchdog)
    }

    /// A simple bind as `dn` with `password` (`ldap_sasl_bind_s`, LDAP_SASL_SIMPLE). An empty
    /// password or DN is refused here with `.invalidCredentials`, without contacting the
    /// server: with an empty password the bind would be unauthenticated, and succeed.
    /// Throws `.invalidCredentials` when the server refuses the pair, `.unavailable` or
    /// `.certificate` when it cannot be reached.
    public func bind(dn: String, password: String) throws(LDAPError) {
        guard !password.isEmpty else {
            throw LDAPError(kind: .invalidCredentials, message: "bind as \(dn) refused: the password is empty")
        }
        guard !dn.isEmpty else {
            throw LDAPError(kind: .invalidCredentials, message: "bind refused: the DN is empty")
        }
        guard !dn.utf8.contains(0) else {
            throw LDAPError(kind: .invalidCredentials, message: "bind refused: the DN holds a NUL byte")
        }
        try setTimeouts(for: "bind as \(dn)")
        var password = password
        let (code, timedOut) = guarded {
            password.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { cldap_simple_bind(handle, dn, $0.baseAddress, $0.count) }
            }
        }
        guard code == LDAP_SUCCESS else { throw failure(code, "bind as \(dn)", timedOut: timedOut) }
    }

    /// The entries under `base` (subtree) that match `filter` (RFC 4515; put user input in it
    /// through ``escapeFilterValue(_:)``), with the named attributes (none named: all user
    /// attributes). Search references are skipped. A server's size limit ends the list early
    /// without an error. Throws `.unavailable` when the deadline passes or the server's time
    /// limit is hit, `.other` for a bad filter or base, or a base that does not exist.
    public func search(base: String, filter: String, attributes: [String]) throws(LDAPError) -> [LDAPEntry] {
        let operation = "search under \(base)"
        guard !base.utf8.contains(0), !filter.utf8.contains(0), !attributes.contains(where: { $0.utf8.contains(0) })
        else {
            throw LDAPError(kind: .other, message: "\(operation): the base, filter or an attribute holds a NUL byte")
        }
        let (seconds, microseconds) = try setTimeouts(for: operation)
        var names: [UnsafeMutablePointer<CChar>?] = attributes.map { strdup($0) } + [nil]
        defer { for name in names { free(name) } }
        var result: OpaquePointer?
        let (code, timedOut) = guarded {
            names.withUnsafeMutableBufferPointer { names in
                cldap_search_subtree(
                    handle, base, filter, attributes.isEmpty ? nil : names.baseAddress, seconds, microseconds, &result)
            }
        }
        defer { if let result { ldap_msgfree(result) } }
        guard code == LDAP_SUCCESS || code == LDAP_SIZELIMIT_EXCEEDED else {
            throw failure(code, operation, timedOut: timedOut)
        }
        guard let result else { return [] }
        return entries(result)
    }

    private func configure(_ options: LDAPOptions) throws(LDAPError) {
        let verify = options.verifyCertificate ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER
        var settings: [(String, () -> Int32)] = [
            ("protocol version 3", { cldap_set_int(self.handle, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3) }),
            ("no referrals", { cldap_set_flag(self.handle, LDAP_OPT_REFERRALS, 0) }),
            ("restart after EINTR", { cldap_set_flag(self.handle, LDAP_OPT_RESTART, 1) }),
            // TLS 1.2: (3 << 8) + 3, LDAP_OPT_X_TLS_PROTOCOL_TLS1_2 (a macro Swift cannot import).
            ("TLS 1.2 or later", { cldap_set_int(self.handle, LDAP_OPT_X_TLS_PROTOCOL_MIN, (3 << 8) + 3) }),
            ("certificate verification", { cldap_set_int(self.handle, LDAP_OPT_X_TLS_REQUIRE_CERT, verify) }),
        ]
        if let file = options.caCertificateFile {
            guard !file.utf8.contains(0) else {
                throw LDAPError(kind: .other, message: "the LDAP CA file name holds a NUL byte")
            }
            settings.append(("CA file \(file)", { cldap_set_string(self.handle, LDAP_OPT_X_TLS_CACERTFILE, file) }))
        }
        settings.append(("TLS handshake watchdog", { cldap_watchdog_install(self.handle, self.watchdog) }))
        // Last: a TLS context of this connection's own, made from the settings above.
        let context = options.caCertificateFile.map { "TLS context (is \($0) a readable PEM file?)" } ?? "TLS context"
        settings.append((context, { cldap_set_int(self.handle, LDAP_OPT_X_TLS_NEWCTX, 0) }))
        for (name, set) in settings where set() != LDAP_OPT_SUCCESS {
            var text = "LDAP option for \(uri) not accepted: \(name)"
            if let diagnostic = diagnosticMessage() { text += ": " + diagnostic }
            throw LDAPError(kind: .other, message: LDAPError.oneLine(text))
        }
    }

    private func startTLS() throws(LDAPError) {
        try setTimeouts(for: "StartTLS")
        let (code, timedOut) = guarded { ldap_start_tls_s(handle, nil, nil) }
        guard code == LDAP_SUCCESS else { throw failure(code, "StartTLS", timedOut: timedOut) }
    }

    /// Gives libldap the time left until the deadline as its network and operation timeouts,
    /// and returns it as seconds and microseconds; throws `.unavailable` if none is left.
    @discardableResult
    private func setTimeouts(for operation: String) throws(LDAPError) -> (Int, Int) {
        let left = deadline - .now
        guard left > .zero else {
            throw LDAPError(
                kind: .unavailable,
                message: "\(operation) at \(uri): no answer within \(Self.seconds(timeoutSeconds)) s")
        }
        let (seconds, attoseconds) = left.components
        let microseconds = max(Int(attoseconds / 1_000_000_000_000), seconds == 0 ? 1 : 0)
        for option in [LDAP_OPT_NETWORK_TIMEOUT, LDAP_OPT_TIMEOUT] {
            _ = cldap_set_timeval(handle, option, Int(seconds), microseconds)
        }
        return (Int(seconds), microseconds)
    }

    private func entries(_ result: OpaquePointer) -> [LDAPEntry] {
        var entries: [LDAPEntry] = []
        var next = ldap_first_entry(handle, result)
        while let entry = next {
            let dnText = ldap_get_dn(handle, entry)
            let dn = dnText.map { String(cString: $0) } ?? ""
            ldap_memfree(dnText)
            entries.append(LDAPEntry(dn: dn, attributes: attributes(of: entry)))
            next = ldap_next_entry(handle, entry)
        }
        return entries
    }

    private func attributes(of entry: OpaquePointer) -> [String: [String]] {
        var attributes: [String: [String]] = [:]
        var position: OpaquePointer?
        var next = ldap_first_attribute(handle, entry, &position)
        while let name = next {
            if let values = ldap_get_values_len(handle, entry, name) {
                var texts: [String] = []
                var index = 0
                while let value = values[index] {
                    let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                    texts.append(String(decoding: bytes, as: UTF8.self))
                    index += 1
                }
                ldap_value_free_len(values)
                attributes[String(cString: name), default: []] += texts
            }
            ldap_memfree(name)
            next = ldap_next_attribute(handle, entry, position)
        }
        if let position { ber_free(position, 0) }
        return attributes
    }

    /// The error for a failed call: its kind from the result code (and, for TLS, the
    /// reason libldap recorded), and one line naming the operation, the URI and the reason.
    private func failure(_ code: Int32, _ operation: String, timedOut: Bool = false) -> LDAPError {
        if timedOut {
            return LDAPError(
                kind: .unavailable,
                message: "\(operation) at \(uri): no answer within \(Self.seconds(timeoutSeconds)) s (TLS handshake)")
        }
        let diagnostic = diagnosticMessage()
        let kind = Self.kind(code: code, diagnostic: diagnostic, verifyingCertificate: verifyCertificate)
        var text: String
        switch kind {
        case .certificate:
            text =
                "\(operation) at \(uri): the server's certificate was refused (not signed by a trusted CA, expired, "
                + "or not for this host name)"
        case .unavailable where code == LDAP_TIMEOUT:
            text = "\(operation) at \(uri): no answer within \(Self.seconds(timeoutSeconds)) s"
        default:
            text = "\(operation) at \(uri): \(Self.reason(code))"
        }
        if let diagnostic, diagnostic != String(cString: ldap_err2string(code)) { text += ": " + diagnostic }
        return LDAPError(kind: kind, message: LDAPError.oneLine(text))
    }

    /// What a result code means for the caller. A failed connection whose recorded reason is
    /// a certificate's (OpenSSL's "certificate verify failed", libldap's "hostname does not
    /// match", or GnuTLS builds' "(unknown error code)", which libldap records for its own
    /// verification failures) is `.certificate` while verification is on.
    static func kind(code: Int32, diagnostic: String?, verifyingCertificate: Bool) -> LDAPError.Kind {
        switch code {
        case LDAP_INVALID_CREDENTIALS:
            return .invalidCredentials
        case LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR:
            if verifyingCertificate, let diagnostic = diagnostic?.lowercased(),
                ["certificate", "unknown error code", "hostname", "verify"].contains(where: diagnostic.contains)
            {
                return .certificate
            }
            return .unavailable
        case LDAP_TIMEOUT, LDAP_TIMELIMIT_EXCEEDED, LDAP_BUSY, LDAP_UNAVAILABLE:
            return .unavailable
        default:
            return .other
        }
    }

    private func diagnosticMessage() -> String? {
        guard let message = cldap_diagnostic_message(handle) else { return nil }
        defer { ldap_memfree(message) }
        let text = LDAPError.oneLine(String(cString: message))
        return text.isEmpty ? nil : text
    }

    /// Runs one libldap call with SIGPIPE blocked and the handshake watchdog set to the
    /// deadline; returns its result and whether the watchdog had to end a handshake.
    private func guarded(_ call: () -> Int32) -> (Int32, Bool) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = max(deadline - .now, .zero).components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        let carry = nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        cldap_watchdog_set_deadline(watchdog, Int(now.tv_sec) + Int(seconds) + carry, nanoseconds)
        let code = Self.withSIGPIPEBlocked(call)
        return (code, cldap_watchdog_disarm(watchdog) != 0)
    }

    private static func withSIGPIPEBlocked<Result>(_ body: () -> Result) -> Result {
        var guardState = cldap_sigpipe_guard()
        cldap_block_sigpipe(&guardState)
        defer { cldap_restore_sigpipe(&guardState) }
        return body()
    }

    private static func reason(_ code: Int32) -> String {
        "\(String(cString: ldap_err2string(code))) (\(code))"
    }

    /// `2` for 2.0, `1.5` for 1.5: the timeout as people write it.
    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && value < 1e15 ? String(Int(value)) : String(value)
    }
}
