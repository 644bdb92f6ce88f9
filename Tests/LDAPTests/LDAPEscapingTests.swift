import CLDAP
import Testing

@testable import LDAP

/// Pure parts: escaping, the classification of result codes, messages.
@Suite struct LDAPEscapingTests {
    @Test func escapesFilterValues() {
        #expect(LDAPConnection.escapeFilterValue("tech1") == "tech1")
        #expect(LDAPConnection.escapeFilterValue("*") == "\\2a")
        #expect(
            LDAPConnection.escapeFilterValue("a*)(uid=*))(|(uid=*") == "a\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a")
        #expect(LDAPConnection.escapeFilterValue("back\\slash") == "back\\5cslash")
        #expect(LDAPConnection.escapeFilterValue("nul\0byte") == "nul\\00byte")
        #expect(LDAPConnection.escapeFilterValue("Grüße 東京") == "Grüße 東京")
        #expect(LDAPConnection.escapeFilterValue("") == "")
    }

    @Test func escapesDNValues() {
        #expect(LDAPConnection.escapeDNValue("tech1") == "tech1")
        #expect(LDAPConnection.escapeDNValue("a,ou=admins") == "a\\,ou\\=admins")
        #expect(LDAPConnection.escapeDNValue("x+y;z<w>\"q\\") == "x\\+y\\;z\\<w\\>\\\"q\\\\")
        #expect(LDAPConnection.escapeDNValue(" #lead trail ") == "\\ #lead trail\\ ")
        #expect(LDAPConnection.escapeDNValue("#hash") == "\\#hash")
        #expect(LDAPConnection.escapeDNValue("nul\0") == "nul\\00")
        #expect(LDAPConnection.escapeDNValue("Jürgen") == "Jürgen")
    }

    @Test func classifiesResultCodes() {
        func kind(_ code: Int32, _ diagnostic: String? = nil, verifying: Bool = true) -> LDAPError.Kind {
            LDAPConnection.kind(code: code, diagnostic: diagnostic, verifyingCertificate: verifying)
        }
        #expect(kind(LDAP_INVALID_CREDENTIALS) == .invalidCredentials)
        #expect(kind(LDAP_SERVER_DOWN) == .unavailable)
        #expect(kind(LDAP_TIMEOUT) == .unavailable)
        #expect(kind(LDAP_CONNECT_ERROR, "(unknown error code)") == .certificate)
        #expect(kind(LDAP_CONNECT_ERROR, "(unknown error code)", verifying: false) == .unavailable)
        #expect(
            kind(LDAP_SERVER_DOWN, "error:0A000086:SSL routines::certificate verify failed (self-signed certificate)")
                == .certificate)
        #expect(kind(LDAP_CONNECT_ERROR, "A TLS packet with unexpected length was received.") == .unavailable)
        #expect(kind(LDAP_BUSY) == .unavailable)
        #expect(kind(LDAP_INSUFFICIENT_ACCESS) == .other)
        #expect(kind(LDAP_FILTER_ERROR) == .other)
    }

    @Test func refusesBadOptionsAndFoldsMessages() {
        let error = #expect(throws: LDAPError.self) { _ = try LDAPConnection(LDAPOptions(uri: "http://x")) }
        #expect(error?.kind == .other)
        let zero = #expect(throws: LDAPError.self) {
            _ = try LDAPConnection(LDAPOptions(uri: "ldap://127.0.0.1", timeoutSeconds: 0))
        }
        #expect(zero?.kind == .other)
        #expect(LDAPError.oneLine("a\n  b\tc\r\n") == "a b c")
        #expect(LDAPError(kind: .other, message: "m").description == "m")
    }
}
