import Prefork
import Testing

@testable import RequestTrackerUtilsApp

@Suite struct HostPatternTests {
    @Test func matchesNamesDomainsAndPorts() {
        let hosts = HostPatterns(["rtutils.example.org", ".school.example", "[::1]", "127.0.0.1"])
        for allowed in [
            "rtutils.example.org", "RTUTILS.example.org:8000", "school.example", "a.b.school.example",
            "[::1]:8000", "127.0.0.1", "rtutils.example.org.",
        ] {
            #expect(hosts.allows(allowed), "\(allowed)")
        }
        for refused in [
            nil, "", "evil.example", "notschool.example", "rtutils.example.org.evil", "[::2]",
            "rtutils.example.org:80:80", "rtutils.example.org:x", "a b", "rtutils.example.org/x",
        ] {
            #expect(!hosts.allows(refused), "\(refused ?? "nil")")
        }
        #expect(HostPatterns(["*"]).allows("anything.example"))
        #expect(HostPatterns(["*"]).allows(nil))
        #expect(!HostPatterns(["*"]).allows("bad host"))
    }

    @Test func aRegNameMayHoldSubDelimiters() {
        // RFC 3986 reg-name: `=` and the other sub-delims are allowed (Gunicorn's users send
        // `0.0.0.0=5000`); matched like any other name.
        #expect(HostPatterns(["*"]).allows("0.0.0.0=5000"))
        #expect(HostPatterns(["0.0.0.0=5000"]).allows("0.0.0.0=5000:8000"))
        #expect(!HostPatterns(["rtutils.example.org"]).allows("0.0.0.0=5000"))
        #expect(HostPatterns(["*"]).allows("a%2Db.example"))
        #expect(!HostPatterns(["*"]).allows("a\"b"))
    }

    @Test func validatesPatterns() {
        #expect(HostPatterns.validate(["rtutils.example.org", ".example.org", "*", "[::1]"]) == nil)
        #expect(HostPatterns.validate(["http://x"]) != nil)
        #expect(HostPatterns.validate(["host:8000"]) != nil)
    }
}

@Suite struct SecretKeyPolicyTests {
    @Test func rejectsShortRepetitiveAndPlaceholderKeys() {
        #expect(SecretKeyPolicy.weakness(String(repeating: "ab", count: 10))?.contains("too short (20") == true)
        #expect(SecretKeyPolicy.weakness(String(repeating: "abcd", count: 20))?.contains("fewer than 5") == true)
        #expect(SecretKeyPolicy.weakness("django-insecure-" + String(repeating: "x1y2z3", count: 10)) != nil)
        #expect(SecretKeyPolicy.weakness("your-generated-secret-key-here-and-then-some-more-characters") != nil)
        #expect(SecretKeyPolicy.weakness("3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f") == nil)
    }
}

@Suite struct FlatJSONTests {
    @Test func parsesPlainValues() {
        var parser = FlatJSONParser(
            bytes: Array(#" { "tag": "W12-\u0030\n", "count": 3, "ok": true, "x": null, "e": "\ud83d\ude00" } "#.utf8))
        let object = parser.parseObject()
        #expect(object == ["tag": "W12-0\n", "count": "3", "ok": "true", "e": "😀"])
    }

    @Test func rejectsWhatItDoesNotTake() {
        for text in [
            #"[1]"#, #"{"a": {"b": 1}}"#, #"{"a": [1]}"#, #"{"a": 1"#, #"{"a": nope}"#, #"{"a": 1} x"#,
            "{\"a\": \"\u{1}\"}",
        ] {
            var parser = FlatJSONParser(bytes: Array(text.utf8))
            #expect(parser.parseObject() == nil, "\(text)")
        }
    }
}

@Suite struct TextFormatTests {
    @Test func csvQuotesAndDefusesFormulas() {
        #expect(CSVText.cell("plain") == "plain")
        #expect(CSVText.cell("a,b") == "\"a,b\"")
        #expect(CSVText.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.cell("=1+1") == "'=1+1")
        #expect(CSVText.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVText.cell("-2,3") == "\"'-2,3\"")
    }

    @Test func htmlEscaping() {
        let text = "<a href=\"x\">'&'</a>"
        #expect(("\(text)" as HTML).text == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }

    @Test func jsonAnswersKeepNullsAndSortMembers() {
        struct Sample: Encodable {
            var text: String
            var rtAssetID: Int
            @Nullable var rtTicketID: Int?
            var left: String?

            enum CodingKeys: String, CodingKey {
                case text
                case rtAssetID = "rt_asset_id"
                case rtTicketID = "rt_ticket_id"
                case left
            }
        }
        let bytes = JSONAnswer.encode(Sample(text: "a\"b\n/c", rtAssetID: 7, rtTicketID: nil, left: nil))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"rt_asset_id":7,"rt_ticket_id":null,"text":"a\"b\n/c"}"#)
    }

    @Test func manifestRoundTrips() {
        let manifest = StaticManifest(paths: ["app.css": "app.0123456789ab.css", "app.js": "app.ba9876543210.js"])
        #expect(StaticManifest.parse(Array(manifest.json.utf8)) == manifest)
        #expect(StaticManifest.parse(Array(#"{"version": 2, "paths": {}}"#.utf8)) == nil)
        #expect(StaticManifest.parse(Array("not json".utf8)) == nil)
        #expect(manifest.url("app.css") == "/static/app.0123456789ab.css")
        #expect(manifest.url("other.png") == "/static/other.png")
    }

    @Test func hashedNames() {
        #expect(CollectStatic.hashedName("app.css", content: Array("abc".utf8)) == "app.ba7816bf8f01.css")
        #expect(CollectStatic.hashedName("LICENSE", content: Array("abc".utf8)) == "LICENSE.ba7816bf8f01")
    }

    @Test func tagFormatting() throws {
        let store = AssetTagStore(database: try AppDatabase.open(path: ":memory:"), prefix: "W12-", padding: 4)
        #expect(store.format(1) == "W12-0001")
        #expect(store.format(12345) == "W12-12345")
    }
}

@Suite struct ErrorLogThrottleTests {
    @Test func logsTheFirstThenOneLinePerIntervalWithTheCount() {
        let throttle = ErrorLogThrottle(interval: 10)
        #expect(throttle.line("down", now: 100) == "down")
        #expect(throttle.line("down", now: 101) == nil)
        #expect(throttle.line("down", now: 109) == nil)
        #expect(throttle.line("down", now: 110) == "down (and 2 more database errors in the last 10s)")
        #expect(throttle.line("down", now: 125) == "down")
    }
}
