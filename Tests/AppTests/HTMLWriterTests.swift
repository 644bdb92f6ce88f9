import OpenSSLSupport
import Prefork
import Testing

@testable import RequestTrackerUtilsApp

@Suite struct HTMLWriterTests {
    let special = "<b>\"'&"

    @Test func interpolatedTextIsEscapedLiteralsAreNot() {
        let html: HTML = "<p title=\"\(special)\">\(special)</p>"
        #expect(html.text == "<p title=\"&lt;b&gt;&quot;&#39;&amp;\">&lt;b&gt;&quot;&#39;&amp;</p>")
        let substring = special.dropFirst()
        #expect(("\(substring)" as HTML).text == "b&gt;&quot;&#39;&amp;")
    }

    @Test func rawHasToBeSpelledOut() {
        #expect(("<div>\(raw: "<svg/>")</div>" as HTML).text == "<div><svg/></div>")
        #expect(HTML(unescaped: "<svg/>").text == "<svg/>")
    }

    @Test func fragmentsNestAsTheyAre() {
        let inner: HTML = "<i>\(special)</i>"
        let outer: HTML = "<p>\(inner)</p>"
        #expect(outer.text == "<p><i>&lt;b&gt;&quot;&#39;&amp;</i></p>")
    }

    @Test func integers() {
        let values = [0, 7, 10, 99, 100, -1, -45, Int.max, Int.min]
        for value in values {
            #expect(("\(value)" as HTML).text == String(value))
        }
        #expect(("\(Int64(-12))" as HTML).text == "-12")
    }

    @Test func percentEncodingMatchesTheURLEncoder() {
        let text = "W12-0001 a/b?c=d&e'f\"<é>~._"
        #expect(("\(percentEncoded: text)" as HTML).text == "W12-0001%20a%2Fb%3Fc%3Dd%26e%27f%22%3C%C3%A9%3E~._")
        let bytes = Array("a b".utf8)
        bytes.withUnsafeBytes { raw in
            #expect(("/\(percentEncoded: raw)" as HTML).text == "/a%20b")
            #expect(("\(escaping: raw)" as HTML).text == "a b")
        }
    }

    @Test func largeFragmentsSpillAndGrow() {
        let long = String(repeating: "&x", count: 1000)
        let html: HTML = "<p>\(long)</p>"
        #expect(html.count == 3 + 6000 + 4)
        #expect(html.text == "<p>" + String(repeating: "&amp;x", count: 1000) + "</p>")
        var page = HTMLWriter(capacity: 16)
        for _ in 0..<100 { page.append("<tr><td>\(special)</td></tr>") }
        page.append(html)
        let row = "<tr><td>&lt;b&gt;&quot;&#39;&amp;</td></tr>"
        #expect(page.text == String(repeating: row, count: 100) + html.text)
        #expect(page.bytes.count == 100 * row.utf8.count + html.count)
    }

    @Test func writerMethods() {
        var page = HTMLWriter()
        page.append("a")
        page.append(escaping: "<")
        page.append(42)
        page.append(raw: "<br>")
        Array("&".utf8).withUnsafeBytes { page.append(escaping: $0) }
        #expect(page.text == "a&lt;42<br>&amp;")
        let response = Response.html(page, status: .created)
        #expect(response.status == .created)
        #expect(response.headers.value(of: "content-type") == "text/html; charset=utf-8")
        #expect(response.body.count == 16)
    }

    @Test func multibyteTextPassesThrough() {
        let text = "é ☃ 😀"
        #expect(("\(text)" as HTML).text == text)
    }
}

@Suite struct CSRFTokenTests {
    @Test func tokenIsTheHMACOfTheCookie() {
        let key = Array("test-key-3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a".utf8)
        let csrf = CSRF(key: key)
        let cookie = "0123456789abcdef0123456789abcdef"
        let expected = Digest.hex(Digest.hmacSHA256(key: key, message: Array(cookie.utf8)))
        #expect(csrf.token(forCookie: cookie) == expected)
        #expect(csrf.token(forCookie: cookie) == expected)  // the context is reused
        #expect(csrf.token(forCookie: "x") == Digest.hex(Digest.hmacSHA256(key: key, message: Array("x".utf8))))
    }

    @Test func freshCookiesAreRandomHex() {
        let csrf = CSRF(key: Array("k".utf8))
        let cookies = (0..<600).map { _ in csrf.random.take(16) { CSRF.hex($0) } }
        #expect(Set(cookies).count == 600)
        #expect(
            cookies.allSatisfy {
                $0.utf8.count == 32 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            })
    }
}
