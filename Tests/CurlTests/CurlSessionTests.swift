import Curl
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

func request(_ url: String, seconds: Double, headers: [(name: String, value: String)] = []) -> CurlRequest {
    CurlRequest(
        url: url, headers: headers, deadline: .now + .milliseconds(Int64(seconds * 1000)), budgetSeconds: seconds)
}

@Suite struct CurlSessionTests {
    @Test func refusedConnectionIsItsOwnKind() throws {
        let listener = try MuteListener(listening: false)
        let port = listener.port
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) {
            try session.perform(request("http://127.0.0.1:\(port)/", seconds: 2))
        }
        #expect(error?.kind == .connectionRefused && error?.message == "connection refused")
    }

    @Test func silentServerTimesOutAtTheDeadline() throws {
        let listener = try MuteListener()
        let session = try CurlSession()
        let started = ContinuousClock.now
        let error = #expect(throws: CurlError.self) {
            try session.perform(request("http://127.0.0.1:\(listener.port)/", seconds: 0.5))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.kind == .timedOut)
        #expect(error?.message == "timed out after 0.5s while waiting for the response")
        #expect(elapsed >= .milliseconds(450) && elapsed < .milliseconds(1500))
    }

    @Test func silentServerTimesOutInTheTLSHandshake() throws {
        let listener = try MuteListener()
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) {
            try session.perform(request("https://127.0.0.1:\(listener.port)/", seconds: 0.5))
        }
        #expect(error?.message == "timed out after 0.5s during the TLS handshake")
    }

    @Test func passedDeadlineFailsAtOnce() throws {
        let session = try CurlSession()
        let late = CurlRequest(url: "http://127.0.0.1:1/", deadline: .now - .seconds(1), budgetSeconds: 3)
        let error = #expect(throws: CurlError.self) { try session.perform(late) }
        #expect(error?.kind == .timedOut && error?.message == "timed out after 3s before connecting")
    }

    @Test func unresolvableHost() throws {
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) { try session.perform(request("http://rt.invalid/", seconds: 5)) }
        #expect(error?.kind == .cannotResolve)
        #expect(error?.message.hasPrefix("DNS lookup failed: ") == true)
    }

    @Test func headerWithLineBreakIsRefused() throws {
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) {
            try session.perform(request("http://127.0.0.1:1/", seconds: 1, headers: [("Authorization", "a\r\nX: 1")]))
        }
        #expect(error?.kind == .invalidRequest)
    }

    @Test func missingCAFileIsRefusedUpFront() {
        let error = #expect(throws: CurlError.self) { try CurlSession(caFile: "/nonexistent/ca.pem") }
        #expect(error?.kind == .tls && error?.message.hasPrefix("CA file /nonexistent/ca.pem: ") == true)
    }

    @Test func onlyHTTPAndHTTPS() throws {
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) { try session.perform(request("file:///etc/passwd", seconds: 1)) }
        #expect(error?.kind == .invalidRequest)
    }

    @Test func secondsAreWrittenShort() {
        #expect(CurlError.seconds(2) == "2s" && CurlError.seconds(1.5) == "1.5s" && CurlError.seconds(0.25) == "0.25s")
    }
}
