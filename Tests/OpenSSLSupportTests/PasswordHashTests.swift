import Testing

@testable import OpenSSLSupport

@Suite struct PasswordHashTests {
    @Test func matchesPythonsPBKDF2AndDjangosTextForm() {
        // python3: base64.b64encode(hashlib.pbkdf2_hmac('sha256', 'correct horse ünïcode'.encode(),
        //          b'abcdefghijklmnop', 1000))
        let django = "pbkdf2_sha256$1000$abcdefghijklmnop$wVs7isJFdjRCGGjaq9PXhhV+7v7bDAvBGkZ67jJJiyo="
        #expect(PasswordHash.verify("correct horse ünïcode", against: django))
        #expect(!PasswordHash.verify("correct horse unicode", against: django))
        #expect(PasswordHash.iterations(of: django) == 1000)
    }

    @Test func newHashesVerifyAndDifferBySalt() {
        let first = PasswordHash.make("s3cret pass", iterations: 2000)
        let second = PasswordHash.make("s3cret pass", iterations: 2000)
        #expect(first != second)
        #expect(first.hasPrefix("pbkdf2_sha256$2000$") && !first.contains("s3cret"))
        #expect(
            PasswordHash.verify("s3cret pass", against: first) && PasswordHash.verify("s3cret pass", against: second))
        #expect(!PasswordHash.verify("s3cret pas", against: first) && !PasswordHash.verify("", against: first))
        #expect(PasswordHash.make("x").hasPrefix("pbkdf2_sha256$600000$"))
    }

    @Test func anythingElseNeverVerifies() {
        for stored in [
            "", "!", "pbkdf2_sha256$1000$salt", "md5$1$salt$hash", "pbkdf2_sha256$0$salt$AAAA",
            "pbkdf2_sha256$x$salt$AAAA", "pbkdf2_sha256$1000$salt$not base64!",
        ] {
            #expect(!PasswordHash.verify("", against: stored) && !PasswordHash.verify("x", against: stored))
        }
    }

    @Test func base64RoundTrips() {
        for count in 0..<20 {
            let bytes = (0..<count).map { UInt8(($0 * 37 + 11) % 256) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("Man".utf8)) == "TWFu" && Base64.encode(Array("M".utf8)) == "TQ==")
        #expect(Base64.encode(Array("root:password".utf8)) == "cm9vdDpwYXNzd29yZA==")
        #expect(Base64.encode(Array("ab".utf8)) == "YWI=" && Base64.encode([]) == "")
    }
}
