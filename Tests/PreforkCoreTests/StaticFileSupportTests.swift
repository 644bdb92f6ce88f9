import Testing

@testable import PreforkCore

@Suite struct ByteRangeTests {
    @Test(arguments: [
        // valid, open-ended, suffix
        ("bytes=0-0", 100, ByteRangeSelection.partial(0...0)),
        ("bytes=0-99", 100, .partial(0...99)),
        ("bytes=10-19", 100, .partial(10...19)),
        ("bytes=90-", 100, .partial(90...99)),
        ("bytes=-10", 100, .partial(90...99)),
        ("bytes=-1000", 100, .partial(0...99)),
        ("BYTES=1-2", 100, .partial(1...2)),
        ("bytes= 1-2 ", 100, .partial(1...2)),
        // an end past the last byte is clamped to size-1
        ("bytes=50-1000", 100, .partial(50...99)),
        ("bytes=0-9223372036854775807", 100, .partial(0...99)),
        // unsatisfiable
        ("bytes=100-", 100, .unsatisfiable),
        ("bytes=100-200", 100, .unsatisfiable),
        ("bytes=-0", 100, .unsatisfiable),
        // zero-length file: no range can be satisfied
        ("bytes=0-", 0, .unsatisfiable),
        ("bytes=-5", 0, .unsatisfiable),
        ("bytes=0-0", 0, .unsatisfiable),
        // invalid syntax or several ranges: ignored, the whole file with 200 (RFC 9110 14.2)
        ("bytes=5-1", 100, .whole),
        ("bytes=a-b", 100, .whole),
        ("bytes=-", 100, .whole),
        ("bytes=", 100, .whole),
        ("bytes=1", 100, .whole),
        ("bytes=1-2-3", 100, .whole),
        ("bytes=+1-2", 100, .whole),
        ("bytes=99999999999999999999-", 100, .whole),
        ("items=0-1", 100, .whole),
        ("bytes 0-1", 100, .whole),
        ("bytes=0-1,5-6", 100, .whole),
        ("bytes=0-1, 0-1", 100, .whole),
        ("", 100, .whole),
    ])
    func select(field: String, size: Int, expected: ByteRangeSelection) {
        #expect(ByteRangeSelection.select(rangeField: field, size: size) == expected, "\(field) of \(size)")
    }
}

@Suite struct EntityTagTests {
    let current = EntityTag.forFile(inode: 0x1234, size: 100, modifiedNanos: 1_700_000_000_123_456_789)

    @Test func formatIsStrongAndQuoted() {
        #expect(current == "\"1234-64-\(String(1_700_000_000_123_456_789, radix: 16))\"")
        #expect(EntityTag.forFile(inode: 0x1234, size: 101, modifiedNanos: 1_700_000_000_123_456_789) != current)
        #expect(EntityTag.forFile(inode: 0x1234, size: 100, modifiedNanos: 1_700_000_000_123_456_790) != current)
        #expect(EntityTag.forFile(inode: 0x1235, size: 100, modifiedNanos: 1_700_000_000_123_456_789) != current)
    }

    @Test func ifNoneMatchUsesWeakComparison() {
        #expect(EntityTag.ifNoneMatchMatches(current, current: current))
        #expect(EntityTag.ifNoneMatchMatches("W/\(current)", current: current))
        #expect(EntityTag.ifNoneMatchMatches("\"other\", \(current)", current: current))
        #expect(EntityTag.ifNoneMatchMatches("\"a,b\",W/\(current)", current: current))
        #expect(EntityTag.ifNoneMatchMatches("*", current: current))
        #expect(EntityTag.ifNoneMatchMatches(" *", current: current))
        #expect(!EntityTag.ifNoneMatchMatches("\"other\"", current: current))
        #expect(!EntityTag.ifNoneMatchMatches("", current: current))
        #expect(!EntityTag.ifNoneMatchMatches(String(current.dropFirst().dropLast()), current: current))
        #expect(!EntityTag.ifNoneMatchMatches("\"1234-64", current: current))
    }

    @Test func ifRangeUsesStrongComparison() {
        #expect(EntityTag.ifRangeMatches(current, current: current))
        #expect(!EntityTag.ifRangeMatches("W/\(current)", current: current))
        #expect(!EntityTag.ifRangeMatches("\"other\"", current: current))
        #expect(!EntityTag.ifRangeMatches("\(current), \(current)", current: current))
    }
}

@Suite struct StaticPathTests {
    func decoded(_ path: String) -> [String]? {
        StaticPath.segments(path)?.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func acceptsOrdinaryPaths() {
        #expect(decoded("app.css") == ["app.css"])
        #expect(decoded("css/app.3f2a9c1b7d4e.css") == ["css", "app.3f2a9c1b7d4e.css"])
        #expect(decoded("img/a%20b.png") == ["img", "a b.png"])
        #expect(decoded("a+b.txt") == ["a+b.txt"])
        #expect(decoded("a..b.txt") == ["a..b.txt"])
        #expect(decoded("%E2%9C%93.txt") == ["✓.txt"])
    }

    @Test(arguments: [
        "", "/", "/etc/passwd", "a//b", "a/", "..", "../database.sqlite", "a/../b", "a/./b", ".", "%2e%2e",
        "%2E%2E/x", "%2e", "..%2fx", "a%2Fb", "a%2fb", "a%00b", "a%00", "a\\b", "a%5cb", "..%5cx", ".env", "css/.git",
        "%2eenv", "a%zz", "a%2", "a%",
    ])
    func rejects(path: String) {
        #expect(StaticPath.segments(path) == nil, "\(path)")
    }

    @Test func hashedNames() {
        #expect(StaticPath.isContentHashed("app.3f2a9c1b7d4e.css"))
        #expect(StaticPath.isContentHashed("vendor.min.0123456789ab.js"))
        #expect(!StaticPath.isContentHashed("app.css"))
        #expect(!StaticPath.isContentHashed("app.3F2A9C1B7D4E.css"))  // uppercase: not ours
        #expect(!StaticPath.isContentHashed("app.3f2a9c1b7d4.css"))  // 11 digits
        #expect(!StaticPath.isContentHashed("app.3f2a9c1b7d4e0.css"))  // 13 digits
        #expect(!StaticPath.isContentHashed("app.3f2a9c1b7d4g.css"))
        #expect(!StaticPath.isContentHashed(".3f2a9c1b7d4e.css"))
        #expect(!StaticPath.isContentHashed("app.3f2a9c1b7d4e."))
        #expect(!StaticPath.isContentHashed("3f2a9c1b7d4e.css"))
        #expect(!StaticPath.isContentHashed("app.3f2a9c1b7d4e"))
    }
}

@Suite struct MediaTypesTests {
    @Test(arguments: [
        ("site.css", "text/css; charset=utf-8"),
        ("app.3f2a9c1b7d4e.js", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("a.PNG", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("favicon.ico", "image/vnd.microsoft.icon"),
        ("f.woff2", "font/woff2"),
        ("f.woff", "font/woff"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("page.html", "text/html; charset=utf-8"),
        ("data.json", "application/json"),
        ("app.js.map", "application/json"),
        ("doc.pdf", "application/pdf"),
        ("m.wasm", "application/wasm"),
        ("archive.tar.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ])
    func byExtension(name: String, expected: String) {
        #expect(MediaTypes.forFileName(name) == expected)
    }
}

@Suite struct HTTPDateParserTests {
    @Test func threeForms() {
        #expect(HTTPDateParser.epochSeconds("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDateParser.epochSeconds("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDateParser.epochSeconds("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDateParser.epochSeconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDateParser.epochSeconds("Tue, 29 Feb 2028 23:59:59 GMT") == 1_835_481_599)
    }

    @Test func roundTripsWithCivilTime() {
        for seconds: Int64 in [0, 951_782_400, 1_700_000_000, 4_102_444_799] {
            let t = CivilTime(epochSeconds: seconds)
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let text =
                "Mon, \(pad(t.day)) \(months[t.month - 1]) \(t.year) \(pad(t.hour)):\(pad(t.minute)):\(pad(t.second)) GMT"
            #expect(HTTPDateParser.epochSeconds(text) == seconds, "\(text)")
        }
    }

    @Test(arguments: [
        "", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "1700000000",
    ])
    func rejects(text: String) {
        #expect(HTTPDateParser.epochSeconds(text) == nil, "\(text)")
    }
}
