import PreforkCore
import Testing

@testable import Prefork

@Suite("Event tokens")
struct EventTokenTests {
    @Test func everyKindRoundTrips() {
        let tokens: [EventToken] = [
            .signalPipe, .listener(0), .listener(7), .connection(fd: 0, serial: 1),
            .connection(fd: 65_535, serial: EventToken.serialMask), .connection(fd: Int32.max, serial: 12_345),
        ]
        for token in tokens {
            #expect(EventToken(rawValue: token.rawValue) == token, "\(token)")
        }
        #expect(Set(tokens.map(\.rawValue)).count == tokens.count)
    }

    @Test func aReusedDescriptorGetsADifferentToken() {
        let first = EventToken.connection(fd: 9, serial: 41)
        let second = EventToken.connection(fd: 9, serial: EventToken.serial(after: 41))
        #expect(first.rawValue != second.rawValue)
    }

    @Test func serialsWrapWithinTheMaskAndSkipZero() {
        #expect(EventToken.serial(after: EventToken.serialMask) == 1)
        #expect(EventToken.serial(after: 1) == 2)
    }
}

@Suite("Request id")
struct RequestIDTests {
    @Test func generatedIdsAreSixteenHexDigits() throws {
        let request = try makeRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(request.requestID == "0000000000000abc")
    }

    @Test func trustedProxyIdIsEchoed() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: abc-123\r\n\r\n"
        let request = try makeRequest(text)
        let id = RequestID.choose(head: request.head, parsed: request.parsed, peer: request.peer, counter: 5)
        #expect(id.string(head: request.head) == "abc-123")
        var out: [UInt8] = []
        var writer = ResponseWriter(serverName: "t")
        writer.write(
            Response.text("x"), requestID: id, head: request.head, persistence: .keepAlive, headOnly: false,
            into: &out)
        #expect(String(decoding: out, as: UTF8.self).contains("\r\nX-Request-ID: abc-123\r\n"))
    }

    @Test func untrustedOrUnsafeIdsAreReplaced() throws {
        let untrusted = try makeRequest(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: abc\r\n\r\n", peer: "203.0.113.9")
        #expect(
            RequestID.choose(head: untrusted.head, parsed: untrusted.parsed, peer: untrusted.peer, counter: 1)
                == .generated(1))
        let quoted = try makeRequest("GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: a\"b\r\n\r\n")
        #expect(
            RequestID.choose(head: quoted.head, parsed: quoted.parsed, peer: quoted.peer, counter: 2) == .generated(2))
        let long = try makeRequest(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: \(String(repeating: "a", count: 129))\r\n\r\n")
        #expect(RequestID.choose(head: long.head, parsed: long.parsed, peer: long.peer, counter: 3) == .generated(3))
    }
}
