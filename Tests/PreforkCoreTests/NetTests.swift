import Testing

@testable import PreforkCore

@Suite struct BindAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8000", BindAddress.tcp(host: "127.0.0.1", port: 8000)),
        ("[::1]:9000", .tcp(host: "::1", port: 9000)),
        (":8080", .tcp(host: "0.0.0.0", port: 8080)),
        ("localhost", .tcp(host: "localhost", port: 8000)),
        ("unix:/run/app.sock", .unix(path: "/run/app.sock")),
        ("fd://3", .fileDescriptor(3)),
    ])
    func parses(text: String, expected: BindAddress) throws {
        #expect(try BindAddress.parse(text).get() == expected)
    }

    @Test(arguments: ["127.0.0.1:http", "127.0.0.1:70000", "::1:80", "unix:", "fd://x", "[::1"])
    func rejects(text: String) {
        guard case .failure(let error) = BindAddress.parse(text) else {
            Issue.record("\(text) should be rejected")
            return
        }
        #expect(!error.reason.isEmpty)
    }
}

@Suite struct ProxyTrustTests {
    @Test func loopbackIsTrustedByDefault() {
        #expect(ProxyTrust.loopback.trusts("127.0.0.1"))
        #expect(ProxyTrust.loopback.trusts("::1"))
        #expect(!ProxyTrust.loopback.trusts("10.0.0.1"))
        #expect(ProxyTrust.loopback.trusts("::ffff:127.0.0.1"))
    }

    @Test func networksAndWildcard() throws {
        let trust = try ProxyTrust.parse(["10.0.0.0/8", "2001:db8::/32"]).get()
        #expect(trust.trusts("10.200.3.4"))
        #expect(!trust.trusts("11.0.0.1"))
        #expect(trust.trusts("2001:db8::5"))
        #expect(try ProxyTrust.parse(["*"]).get().trusts("203.0.113.9"))
    }

    @Test func clientIsRightmostUntrustedHop() {
        let trust = ProxyTrust.loopback
        #expect(trust.clientAddress(forwardedFor: "203.0.113.7") == "203.0.113.7")
        // A client that forges the header cannot choose its address: nginx appends the real one.
        #expect(trust.clientAddress(forwardedFor: "1.2.3.4, 203.0.113.7") == "203.0.113.7")
        #expect(trust.clientAddress(forwardedFor: "203.0.113.7, 127.0.0.1") == "203.0.113.7")
        #expect(trust.clientAddress(forwardedFor: "not-an-ip") == nil)
    }

    @Test func rejectsBadEntries() {
        if case .success = ProxyTrust.parse(["10.0.0.0/33"]) { Issue.record("prefix 33 accepted") }
        if case .success = ProxyTrust.parse(["nginx.local"]) { Issue.record("host name accepted") }
    }
}

@Suite struct CivilTimeTests {
    @Test func knownInstants() {
        let leap = CivilTime(epochSeconds: 951_782_400)  // 2000-02-29 00:00:00
        #expect(leap.year == 2000 && leap.month == 2 && leap.day == 29 && leap.weekday == 2)
        let now = CivilTime(epochSeconds: 1_795_278_600)  // 2026-11-21 16:30:00, a Saturday
        #expect(now.year == 2026 && now.month == 11 && now.day == 21)
        #expect(now.hour == 16 && now.minute == 30 && now.weekday == 6)
        let before = CivilTime(epochSeconds: -1)
        #expect(before.year == 1969 && before.month == 12 && before.day == 31 && before.second == 59)
    }
}

@Suite struct FormDecodingTests {
    @Test func decodesQueries() {
        #expect(FormDecoding.decode("a=1&b=x+y%21&c") == ["a": "1", "b": "x y!", "c": ""])
        #expect(FormDecoding.percentDecode("%zz%4") == "%zz%4")
        #expect(FormDecoding.percentDecodePath("a+b%20c") == "a+b c")
    }
}
