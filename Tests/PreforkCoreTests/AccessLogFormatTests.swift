import Testing

@testable import PreforkCore

/// 2026-11-21 13:55:36 UTC plus 123 456 789 ns.
private let sampleStart: Int64 = 1_795_269_336 * 1_000_000_000 + 123_456_789

private func makeEntry(
    remoteAddress: String = "127.0.0.1",
    method: String = "GET",
    target: String = "/x?y=1",
    versionMinor: Int = 1,
    status: Int = 200,
    responseBytes: Int = 13,
    durationMicros: Int64 = 1_234,
    startRealtimeNanos: Int64 = sampleStart,
    pid: Int32 = 4242,
    requestID: String = "rid-1",
    requestHeaders: [String: String] = ["referer": "http://ref/", "user-agent": "curl/8.0"],
    responseHeaders: [String: String] = ["content-type": "text/plain"]
) -> AccessLogEntry {
    AccessLogEntry(
        remoteAddress: remoteAddress, method: method, target: target,
        versionMinor: versionMinor, status: status, responseBytes: responseBytes,
        durationMicros: durationMicros, startRealtimeNanos: startRealtimeNanos, pid: pid,
        requestID: requestID,
        requestHeader: { requestHeaders[$0.lowercased()] },
        responseHeader: { responseHeaders[$0.lowercased()] })
}

private func render(_ format: String, _ entry: AccessLogEntry = makeEntry()) throws -> String {
    let compiled = try AccessLogFormat(format, environment: { $0 == "APP_ENV" ? "prod" : nil })
    var buffer: [UInt8] = []
    compiled.render(entry, into: &buffer)
    return String(decoding: buffer, as: UTF8.self)
}

@Suite struct AccessLogFormatTests {
    @Test(arguments: [
        ("%(h)s", "127.0.0.1"),
        ("%(l)s", "-"),
        ("%(u)s", "-"),
        ("%(t)s", "[21/Nov/2026:13:55:36 +0000]"),
        ("%(r)s", "GET /x?y=1 HTTP/1.1"),
        ("%(m)s", "GET"),
        ("%(U)s", "/x"),
        ("%(q)s", "y=1"),
        ("%(H)s", "HTTP/1.1"),
        ("%(s)s", "200"),
        ("%(B)s", "13"),
        ("%(b)s", "13"),
        ("%(f)s", "http://ref/"),
        ("%(a)s", "curl/8.0"),
        ("%(T)s", "0"),
        ("%(M)s", "1"),
        ("%(D)s", "1234"),
        ("%(L)s", "0.001234"),
        ("%(p)s", "<4242>"),
        ("%(rid)s", "rid-1"),
        ("%({User-Agent}i)s", "curl/8.0"),
        ("%({X-Missing}i)s", "-"),
        ("%({Content-Type}o)s", "text/plain"),
        ("%({x-missing}o)s", "-"),
        ("%({APP_ENV}e)s", "prod"),
        ("%({NOT_SET}e)s", "-"),
    ])
    func everyAtom(format: String, expected: String) throws {
        #expect(try render(format) == expected + "\n")
    }

    @Test func defaultFormat() throws {
        let line = try render(AccessLogFormat.defaultFormat)
        #expect(
            line
                == #"127.0.0.1 - - [21/Nov/2026:13:55:36 +0000] "GET /x?y=1 HTTP/1.1" 200 13 "http://ref/" "curl/8.0" rid-1"#
                + "\n")
    }

    @Test func defaultFormatWithMissingHeadersAndEmptyBody() throws {
        let entry = makeEntry(
            method: "HEAD", target: "/", versionMinor: 0, status: 304, responseBytes: 0,
            requestHeaders: [:])
        let line = try render(AccessLogFormat.defaultFormat, entry)
        #expect(
            line == #"127.0.0.1 - - [21/Nov/2026:13:55:36 +0000] "HEAD / HTTP/1.0" 304 - "-" "-" rid-1"#
                + "\n")
    }

    @Test func pathAndQueryEdgeCases() throws {
        #expect(try render("%(U)s|%(q)s", makeEntry(target: "/plain")) == "/plain|\n")
        #expect(try render("%(U)s|%(q)s", makeEntry(target: "/a?")) == "/a|\n")
        #expect(try render("%(U)s|%(q)s", makeEntry(target: "/a?b?c")) == "/a|b?c\n")
        #expect(try render("%(B)s %(b)s", makeEntry(responseBytes: 0)) == "0 -\n")
    }

    @Test func durations() throws {
        let entry = makeEntry(durationMicros: 3_004_005)
        #expect(try render("%(T)s %(M)s %(D)s %(L)s", entry) == "3 3004 3004005 3.004005\n")
        #expect(try render("%(L)s", makeEntry(durationMicros: 0)) == "0.000000\n")
    }

    @Test func literalTextAndStrayPercent() throws {
        #expect(try render("100% [%(s)s] %d 50%%") == "100% [200] %d 50%%\n")
        #expect(try render("") == "\n")
    }

    @Test func headerValueCannotForgeFieldsOrLines() throws {
        let evil = "a\"b\\c\r\nX\u{0}Y\u{7F}\t"
        let entry = makeEntry(requestHeaders: ["user-agent": evil, "referer": "ok"])
        let line = try render(AccessLogFormat.defaultFormat, entry)
        #expect(line.hasSuffix(#" "ok" "a\"b\\c\x0D\x0AX\x00Y\x7F\x09" rid-1"# + "\n"))
        // Exactly one line, and no raw control bytes anywhere.
        let bytes = Array(line.utf8)
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
        #expect(bytes.last == 0x0A)
        #expect(!bytes.dropLast().contains { $0 < 0x20 || $0 == 0x7F })
    }

    @Test func everyValueIsEscaped() throws {
        let entry = makeEntry(
            remoteAddress: "1\n2", method: "G\"T", target: "/p\r?q\u{1}", requestID: "r\\id",
            responseHeaders: ["x": "v\n"])
        let line = try render("%(h)s %(m)s %(U)s %(q)s %(r)s %(rid)s %({x}o)s", entry)
        #expect(
            line
                == #"1\x0A2 G\"T /p\x0D q\x01 G\"T /p\x0D?q\x01 HTTP/1.1 r\\id v\x0A"# + "\n")
    }

    @Test func nonASCIIIsHexEscaped() throws {
        let entry = makeEntry(requestHeaders: ["user-agent": "é\u{2028}"])
        #expect(try render("%(a)s", entry) == #"\xC3\xA9\xE2\x80\xA8"# + "\n")
    }

    @Test func environmentValueIsEscapedToo() throws {
        let compiled = try AccessLogFormat("%({E}e)s", environment: { _ in "a\nb" })
        var buffer: [UInt8] = []
        compiled.render(makeEntry(), into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"a\x0Ab"# + "\n")
    }

    @Test func rendersAppendToReusedBuffer() throws {
        let compiled = try AccessLogFormat("%(s)s")
        var buffer: [UInt8] = []
        compiled.render(makeEntry(status: 200), into: &buffer)
        compiled.render(makeEntry(status: 404), into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "200\n404\n")
        buffer.removeAll(keepingCapacity: true)
        compiled.render(makeEntry(status: 500), into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "500\n")
    }

    @Test(arguments: [
        (Int64(0), "[01/Jan/1970:00:00:00 +0000]"),
        (-1, "[31/Dec/1969:23:59:59 +0000]"),
        (1_795_269_336, "[21/Nov/2026:13:55:36 +0000]"),
        (1_709_210_096, "[29/Feb/2024:12:34:56 +0000]"),  // leap day
        (951_782_400, "[29/Feb/2000:00:00:00 +0000]"),  // leap day, 400-year rule
        (4_107_538_800, "[28/Feb/2100:23:00:00 +0000]"),  // 2100 is not a leap year
        (4_107_542_400, "[01/Mar/2100:00:00:00 +0000]"),
        (1_798_761_599, "[31/Dec/2026:23:59:59 +0000]"),  // year end
        (1_798_761_600, "[01/Jan/2027:00:00:00 +0000]"),
        (-2_203_891_200, "[01/Mar/1900:00:00:00 +0000]"),
    ])
    func commonLogTime(seconds: Int64, expected: String) {
        var buffer: [UInt8] = []
        appendCommonLogTime(nanos: seconds * 1_000_000_000 + 999_999_999, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == expected)
    }

    @Test func civilDatesRoundTripOverFourHundredYears() {
        // Walk day by day from 1900-01-01 and check the calendar advances one day at a time.
        var (year, month, day): (Int64, Int64, Int64) = (1900, 1, 1)
        let lengths: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var mismatches = 0
        for days in Int64(-25_567)..<Int64(-25_567 + 146_097) {
            let got = civilFromDays(days)
            if got.year != year || got.month != month || got.day != day { mismatches += 1 }
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            let length = lengths[Int(month) - 1] + (month == 2 && leap ? 1 : 0)
            day += 1
            if day > length {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }
        #expect(mismatches == 0)
        #expect((year, month, day) == (2300, 1, 1))
    }

    @Test func unknownAtomIsReportedWithTheValidOnes() {
        #expect(throws: AccessLogFormatError.self) { try AccessLogFormat("%(h)s %(zz)s") }
        do {
            _ = try AccessLogFormat("%(h)s %(zz)s")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason.contains("'%(zz)s'"))
            #expect(error.reason.contains("%(h)s"))
            #expect(error.reason.contains("%(rid)s"))
            #expect(error.reason.contains("%({header}i)s"))
            #expect(error.description == error.reason)
        }
    }

    @Test(arguments: ["%(h", "%(h)", "%(h)d", "%({x}z)s", "%({}i)s", "%()s"])
    func malformedAtomsAreRejected(format: String) {
        #expect(throws: AccessLogFormatError.self) { try AccessLogFormat(format) }
    }
}

@Suite struct AccessLogUserTests {
    @Test func theUserAtomIsTheNamedUserEscapedOrADash() throws {
        var entry = makeEntry()
        #expect(try render("%(u)s", entry) == "-\n")
        entry.user = "alice"
        #expect(try render("%(h)s %(l)s %(u)s", entry) == "127.0.0.1 - alice\n")
        entry.user = "bob \"x\"\u{7}é"
        #expect(try render("%(u)s", entry) == "bob \\\"x\\\"\\x07\\xC3\\xA9\n")
    }
}
