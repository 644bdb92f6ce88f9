import Curl
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP socket that listens and never accepts or answers: the kernel completes
/// connections into its backlog, so a client connects and then waits for a response.
final class SilentListener {
    let descriptor: Int32
    let port: Int

    /// `listening: false` binds the port without listening: connections to it are refused.
    init(listening: Bool = true) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, !listening || listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw CurlError(.other, "listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

func request(_ url: String, seconds: Double, headers: [(name: String, value: String)] = []) -> CurlRequest {
    CurlRequest(
        url: url, headers: headers, deadline: .now + .milliseconds(Int64(seconds * 1000)), budgetSeconds: seconds)
}

@Suite struct CurlSessionTests {
    @Test func refusedConnectionIsItsOwnKind() throws {
        let listener = try SilentListener(listening: false)
        let port = listener.port
        let session = try CurlSession()
        let error = #expect(throws: CurlError.self) { try session.perform(request("http://127.0.0.1:\(port)/", seconds: 2)) }
        #expect(error?.kind == .connectionRefused && error?.message == "connection refused")
    }

    @Test func silentServerTimesOutAtTheDeadline() throws {
        let listener = try SilentListener()
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
        let listener = try SilentListener()
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
