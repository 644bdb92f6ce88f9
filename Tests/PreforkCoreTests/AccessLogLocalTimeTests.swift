import Foundation
import Testing

@testable import PreforkCore

/// `%(t)s` in local time as Gunicorn writes it, and the JSON preset.
@Suite struct AccessLogLocalTimeTests {
    @Test(arguments: [
        (-7 * 3600, "[21/Nov/2026:06:55:36 -0700]"),
        (5 * 3600 + 1800, "[21/Nov/2026:19:25:36 +0530]"),
        (-(3 * 3600 + 1800), "[21/Nov/2026:10:25:36 -0330]"),
        (0, "[21/Nov/2026:13:55:36 +0000]"),
    ])
    func localTimeWithItsOffset(offset: Int, expected: String) {
        var buffer: [UInt8] = []
        appendCommonLogTime(nanos: 1_795_269_336 * 1_000_000_000, offsetSeconds: offset, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == expected)
    }

    func entry(target: String, agent: String) -> AccessLogEntry {
        AccessLogEntry(
            remoteAddress: "10.0.0.7", method: "GET", target: target, versionMinor: 1, status: 404,
            responseBytes: 0, durationMicros: 1500, startRealtimeNanos: 1_795_269_336 * 1_000_000_000,
            utcOffsetSeconds: 3600, pid: 77, requestID: "abc", user: "ann",
            requestHeader: { $0 == "user-agent" ? agent : nil })
    }

    @Test func theJSONPresetIsOneValidObjectPerLineWhateverTheRequestHeld() throws {
        let format = try AccessLogFormat("json", environment: { _ in nil })
        var buffer: [UInt8] = []
        format.render(entry(target: "/a\"b\\c?q=\u{1}x", agent: "bad\u{7F}\u{E9}\"agent\n"), into: &buffer)
        #expect(buffer.last == 10 && buffer.dropLast().allSatisfy { $0 < 0x80 && $0 != 10 })
        let object = try JSONSerialization.jsonObject(with: Data(buffer)) as? [String: String]
        #expect(object?["path"] == "/a\"b\\c")
        #expect(object?["query"] == "q=\u{1}x")
        #expect(object?["user_agent"] == "bad\u{7F}\u{C3}\u{A9}\"agent\n")  // each byte past ASCII as \u00HH
        #expect(object?["status"] == "404" && object?["bytes"] == "0" && object?["user"] == "ann")
        #expect(object?["time"] == "[21/Nov/2026:14:55:36 +0100]" && object?["pid"] == "<77>")
        #expect(object?["referer"] == "-")
    }
}
