import Testing

@testable import LDAP

/// Servers that are gone, silent, or show a certificate the client must refuse. Each test
/// makes its own server, so that stopping it disturbs no other test.
@Suite struct LDAPFailureTests {
    /// The deadline plus what a loaded test machine may add.
    static let slack: Duration = .milliseconds(1500)

    @Test func aStoppedServerIsUnavailableAtOnce() throws {
        let directory = try TestDirectory.start()
        defer { directory.stop() }
        let working = try LDAPConnection(directory.options())
        try working.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        directory.stopServer()
        for ldaps in [false, true] {
            let (elapsed, error) = measure { () throws(LDAPError) in
                let connection = try LDAPConnection(directory.options(ldaps: ldaps, timeout: 2))
                try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
            }
            #expect(error?.kind == .unavailable, "\(error?.message ?? "no error")")
            #expect(elapsed < .seconds(2) + Self.slack)
            #expect(error?.message.contains("tech1-secret") == false)
            #expect(error?.message.contains("\n") == false)
        }
    }

    /// A port that completes the TCP handshake but never answers: plain LDAP (the bind waits),
    /// StartTLS (the extended operation waits) and LDAPS (the TLS handshake waits) each give
    /// up at the deadline.
    @Test(arguments: ["ldap", "starttls", "ldaps"])
    func aSilentServerIsUnavailableWithinTheTimeout(mode: String) throws {
        let listener = try SilentListener()
        defer { withExtendedLifetime(listener) {} }
        let options = LDAPOptions(
            uri: (mode == "ldaps" ? "ldaps" : "ldap") + "://127.0.0.1:\(listener.port)", startTLS: mode == "starttls",
            timeoutSeconds: 2)
        let (elapsed, error) = measure { () throws(LDAPError) in
            let connection = try LDAPConnection(options)
            try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        }
        #expect(error?.kind == .unavailable, "\(error?.message ?? "no error")")
        #expect(error?.message.contains("within 2 s") == true, "\(error?.message ?? "")")
        #expect(elapsed >= .milliseconds(1900))
        #expect(elapsed < .seconds(2) + Self.slack)
    }

    @Test func theDeadlineCoversTheWholeConnection() throws {
        let listener = try SilentListener()
        defer { withExtendedLifetime(listener) {} }
        let connection = try LDAPConnection(
            LDAPOptions(uri: "ldap://127.0.0.1:\(listener.port)", timeoutSeconds: 1))
        let (first, _) = measure { () throws(LDAPError) in
            try connection.bind(dn: TestDirectory.dn("tech1"), password: "x")
        }
        #expect(first < .seconds(1) + Self.slack)
        // Nothing is left for a second operation: it fails without waiting.
        let (second, error) = measure { () throws(LDAPError) in
            _ = try connection.search(base: TestDirectory.base, filter: "(uid=x)", attributes: [])
        }
        #expect(error?.kind == .unavailable)
        #expect(second < .milliseconds(200))
    }

    @Test(arguments: ["--untrusted-cert", "--wrong-host-cert"])
    func aCertificateNotForThisServerIsRefused(option: String) throws {
        let directory = try TestDirectory.start([option])
        defer { directory.stop() }
        for ldaps in [false, true] {
            let connection: LDAPConnection
            var error: LDAPError?
            do {
                connection = try LDAPConnection(directory.options(ldaps: ldaps))
                try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
            } catch let caught {
                error = caught
            }
            #expect(error?.kind == .certificate, "\(ldaps ? "ldaps" : "StartTLS"): \(error?.message ?? "no error")")
            #expect(error?.message.contains("tech1-secret") == false)
            #expect(error?.message.contains("\n") == false)
            // Without verification the same server is accepted.
            var unverified = directory.options(ldaps: ldaps)
            unverified.verifyCertificate = false
            let accepted = try LDAPConnection(unverified)
            try accepted.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        }
    }

    @Test func systemCAsDoNotTrustTheTestCA() throws {
        let directory = try TestDirectory.start()
        defer { directory.stop() }
        var options = directory.options(ldaps: true)
        options.caCertificateFile = nil
        let error = #expect(throws: LDAPError.self) {
            let connection = try LDAPConnection(options)
            try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        }
        #expect(error?.kind == .certificate, "\(error?.message ?? "")")
    }
}
