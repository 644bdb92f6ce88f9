import Testing

@testable import LDAP

/// The LDAP module's tests: one throw-away slapd (Tests/ldap/slapd-server.sh) for the nested
/// suites that need it; a few tests start their own (a stopped server, wrong certificates).
@Suite(.testDirectory)
struct LDAPTests {
    @Test func bindsEachUserOverStartTLSAndLDAPS() throws {
        let directory = try TestDirectory.current
        for ldaps in [false, true] {
            for user in TestDirectory.users {
                let connection = try LDAPConnection(directory.options(ldaps: ldaps))
                try connection.bind(dn: TestDirectory.dn(user.name), password: user.password)
            }
        }
    }

    @Test func wrongPasswordIsInvalidCredentials() throws {
        let directory = try TestDirectory.current
        for ldaps in [false, true] {
            let connection = try LDAPConnection(directory.options(ldaps: ldaps))
            let error = #expect(throws: LDAPError.self) {
                try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-wrong-password")
            }
            #expect(error?.kind == .invalidCredentials)
            #expect(error?.message.contains("tech1-wrong-password") == false)
            #expect(error?.message.contains("Invalid credentials") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("\n") == false)
        }
        // A user who does not exist is refused the same way.
        let connection = try LDAPConnection(directory.options())
        let error = #expect(throws: LDAPError.self) {
            try connection.bind(dn: TestDirectory.dn("nosuchuser"), password: "whatever")
        }
        #expect(error?.kind == .invalidCredentials)
    }

    @Test func searchesForTheUsersGroups() throws {
        let directory = try TestDirectory.current
        for user in TestDirectory.users {
            let connection = try LDAPConnection(directory.options(ldaps: user.name == "teacher1"))
            try connection.bind(dn: TestDirectory.dn(user.name), password: user.password)
            let filter = "(&(objectClass=inetOrgPerson)(uid=\(LDAPConnection.escapeFilterValue(user.name))))"
            let entries = try connection.search(
                base: TestDirectory.base, filter: filter, attributes: ["memberOf", "mail", "cn"])
            #expect(entries.count == 1)
            let entry = try #require(entries.first)
            #expect(entry.dn == TestDirectory.dn(user.name))
            #expect(entry.attributes["memberOf"] == user.group.map { [$0] })
            #expect(entry.values("MEMBEROF") == (user.group.map { [$0] } ?? []))
            #expect(entry.attributes["mail"] == ["\(user.name)@example.org"])
            #expect(entry.attributes["userPassword"] == nil)
            // The groups themselves, by member.
            let groups = try connection.search(
                base: "ou=groups," + TestDirectory.base,
                filter: "(member=\(LDAPConnection.escapeFilterValue(TestDirectory.dn(user.name))))", attributes: ["cn"])
            #expect(groups.map(\.dn) == (user.group.map { [$0] } ?? []))
        }
    }

    @Test func searchWithoutAttributesReturnsAllAndNoMatchIsEmpty() throws {
        let directory = try TestDirectory.current
        let connection = try LDAPConnection(directory.options())
        try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        let entries = try connection.search(base: TestDirectory.base, filter: "(uid=teacher1)", attributes: [])
        #expect(entries.first?.attributes["cn"] == ["Test Teacher1"])
        #expect(entries.first?.attributes["objectClass"] == ["inetOrgPerson"])
        let none = try connection.search(
            base: TestDirectory.base, filter: "(uid=\(LDAPConnection.escapeFilterValue("*")))", attributes: ["uid"])
        #expect(none.isEmpty)
        let error = #expect(throws: LDAPError.self) {
            try connection.search(base: TestDirectory.base, filter: "(uid=unbalanced", attributes: [])
        }
        #expect(error?.kind == .other)
    }

    @Test func emptyPasswordIsRefusedWithoutContactingTheServer() throws {
        let directory = try TestDirectory.current
        // A port that refuses connections: had the bind been sent, it would be .unavailable.
        let nowhere = LDAPOptions(uri: "ldap://127.0.0.1:\(try refusedPort())", timeoutSeconds: 2)
        for options in [nowhere, LDAPOptions(uri: directory.ldapURI)] {
            let connection = try LDAPConnection(options)
            let error = #expect(throws: LDAPError.self) {
                try connection.bind(dn: TestDirectory.dn("tech1"), password: "")
            }
            #expect(error?.kind == .invalidCredentials)
        }
        let connection = try LDAPConnection(nowhere)
        let error = #expect(throws: LDAPError.self) { try connection.bind(dn: "", password: "x") }
        #expect(error?.kind == .invalidCredentials)
    }

    @Test func plainLDAPWithoutStartTLSWorksToo() throws {
        let directory = try TestDirectory.current
        let connection = try LDAPConnection(LDAPOptions(uri: directory.ldapURI, timeoutSeconds: 5))
        try connection.bind(dn: TestDirectory.dn("nobody1"), password: "nobody1-secret")
    }

    @Test func aMissingCAFileIsRefused() throws {
        let directory = try TestDirectory.current
        var options = directory.options(ldaps: true)
        options.caCertificateFile = directory.directory + "/no-such-ca.pem"
        let error = #expect(throws: LDAPError.self) {
            let connection = try LDAPConnection(options)
            try connection.bind(dn: TestDirectory.dn("tech1"), password: "tech1-secret")
        }
        #expect(error?.kind != .invalidCredentials)
        #expect(error?.message.contains("tech1-secret") == false)
    }
}
