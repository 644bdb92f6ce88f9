import HTTPClient
import Testing

@Suite struct HTTPURLTests {
    @Test func parsesHostPortAndTarget() throws {
        let url = try HTTPURL("https://tickets.example.org:8443/REST/2.0/assets?query=a#frag")
        #expect(url.isTLS && url.host == "tickets.example.org" && url.port == 8443)
        #expect(url.target == "/REST/2.0/assets?query=a")
        #expect(url.hostHeader == "tickets.example.org:8443")
    }

    @Test func defaultsPortAndPath() throws {
        let plain = try HTTPURL("http://rt.example")
        #expect(plain.port == 80 && plain.target == "/" && plain.hostHeader == "rt.example")
        let query = try HTTPURL("HTTPS://rt.example?x=1")
        #expect(query.port == 443 && query.target == "/?x=1")
    }

    @Test func parsesIPv6Literals() throws {
        let url = try HTTPURL("http://[::1]:8080/x")
        #expect(url.host == "::1" && url.port == 8080 && url.endpoint == "[::1]:8080" && url.hostHeader == "[::1]:8080")
    }

    @Test(arguments: [
        "ftp://x/", "http://", "http://host:0/", "http://host:99999/", "http://u:p@host/", "http://[::1/",
        "http://host/a b",
    ])
    func refusesInvalidURLs(_ text: String) {
        #expect(throws: HTTPClientError.self) { try HTTPURL(text) }
    }

    @Test func percentEncodesQueryValues() {
        #expect(HTTPURL.percentEncode("Name = 'T-1'") == "Name%20%3D%20%27T-1%27")
    }
}

@Suite struct HTTPClientLoopbackTests {
    let server: LoopbackServer
    let client: BlockingHTTPClient

    init() throws {
        server = try LoopbackServer()
        client = try BlockingHTTPClient(timeout: 2)
    }

    @Test func contentLengthBody() throws {
        let response = try client.get(server.url("/hello"))
        #expect(response.status == 200 && response.reason == "OK")
        #expect(response.text == "hello" && response.header("Content-Type") == "text/plain")
    }

    @Test func sendsHostContentLengthAndConnectionClose() throws {
        let request = try HTTPClientRequest(
            method: "POST", url: server.url("/echo"), headers: [("Authorization", "token abc")],
            body: Array("{\"a\":1}".utf8))
        let echoed = try client.send(request).text
        #expect(echoed.hasPrefix("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"))
        #expect(echoed.contains("\r\nAuthorization: token abc\r\n"))
        #expect(echoed.contains("\r\nContent-Length: 7\r\n") && echoed.contains("\r\nConnection: close\r\n"))
        #expect(echoed.hasSuffix("\r\n\r\n{\"a\":1}"))
    }

    @Test func chunkedBody() throws {
        #expect(try client.get(server.url("/chunked")).text == "hello, chunked world")
    }

    @Test func closeDelimitedBody() throws {
        #expect(try client.get(server.url("/close")).text == "until the end")
    }

    @Test func skipsInterimResponses() throws {
        let response = try client.get(server.url("/interim"))
        #expect(response.status == 200 && response.text == "after interim")
    }

    @Test func givesUpAtTheDeadline() throws {
        let (caught, seconds) = timedFailure { () throws(HTTPClientError) in
            _ = try client.get(server.url("/sleep?s=5"))
        }
        #expect(caught?.kind == .timedOut && caught?.phase == .receiving)
        #expect(caught?.description == "127.0.0.1:\(server.port): timed out after 2s while waiting for the response")
        #expect(seconds >= 1.9 && seconds < 2.5, "took \(seconds)s")
    }

    @Test func oneDeadlineForTheWholeResponse() throws {
        // A server that keeps sending one byte a second never lets a per-read timeout fire.
        let (caught, seconds) = timedFailure { () throws(HTTPClientError) in _ = try client.get(server.url("/trickle"))
        }
        #expect(caught?.kind == .timedOut)
        #expect(seconds < 2.5, "took \(seconds)s")
    }

    @Test func serverClosingWithoutAnAnswer() throws {
        let error = #expect(throws: HTTPClientError.self) { try client.get(server.url("/early-close")) }
        #expect(error?.kind == .closedEarly)
        #expect(error?.message == "the server closed the connection without a response")
    }

    @Test func truncatedBody() throws {
        let error = #expect(throws: HTTPClientError.self) { try client.get(server.url("/truncated")) }
        #expect(error?.kind == .closedEarly && error?.message.contains("after 10 of 100 body bytes") == true)
    }

    @Test func responseTooLarge() throws {
        let small = try BlockingHTTPClient(timeout: 2, maximumResponseBytes: 10_000)
        #expect(try small.get(server.url("/big?n=5000")).body.count == 5000)
        let error = #expect(throws: HTTPClientError.self) { try small.get(server.url("/big?n=20000")) }
        #expect(error?.kind == .responseTooLarge)
    }

    @Test func malformedResponse() throws {
        let error = #expect(throws: HTTPClientError.self) { try client.get(server.url("/garbage")) }
        #expect(error?.kind == .malformedResponse)
        #expect(error?.message.hasPrefix("malformed response: not an HTTP/1.x status line") == true)
    }

    @Test func refusedConnection() throws {
        let port = refusedPort()
        let (caught, seconds) = timedFailure { () throws(HTTPClientError) in
            _ = try client.get("http://127.0.0.1:\(port)/")
        }
        #expect(caught?.kind == .connectionRefused)
        #expect(caught?.description == "127.0.0.1:\(port): connection refused")
        #expect(seconds < 0.5)
    }

    @Test func unknownHost() throws {
        let error = #expect(throws: HTTPClientError.self) { try client.get("http://no-such-host.invalid/") }
        #expect(error?.kind == .dnsFailure)
        #expect(error?.description.hasPrefix("no-such-host.invalid:80: DNS lookup failed: ") == true)
    }

    @Test func refusesHeaderInjection() throws {
        #expect(throws: HTTPClientError.self) {
            try HTTPClientRequest(url: server.url("/"), headers: [("Authorization", "token a\r\nX-Evil: 1")])
        }
    }
}

@Suite struct HTTPClientTLSTests {
    let certificate: SelfSignedCertificate
    let server: LoopbackServer

    init() throws {
        certificate = try SelfSignedCertificate()
        server = try LoopbackServer(tls: (certificate.certificate, certificate.key))
    }

    @Test func failsVerificationWithoutTheCA() throws {
        let client = try BlockingHTTPClient(timeout: 5)
        let error = #expect(throws: HTTPClientError.self) {
            try client.get(server.url("/hello", host: "localhost", scheme: "https"))
        }
        #expect(error?.kind == .tlsVerificationFailed)
        #expect(
            error?.description.hasSuffix(
                ":\(server.port): TLS: certificate verification failed: self-signed certificate") == true)
    }

    @Test func succeedsWithTheCAFile() throws {
        let client = try BlockingHTTPClient(timeout: 5, caFile: certificate.certificate)
        let response = try client.get(server.url("/hello", host: "localhost", scheme: "https"))
        #expect(response.status == 200 && response.text == "hello")
        #expect(
            try client.get(server.url("/chunked", host: "localhost", scheme: "https")).text == "hello, chunked world")
        #expect(try client.get(server.url("/close", host: "localhost", scheme: "https")).text == "until the end")
    }

    @Test func failsOnAnotherHostName() throws {
        // The certificate names localhost only; 127.0.0.1 is the same server under another name.
        let client = try BlockingHTTPClient(timeout: 5, caFile: certificate.certificate)
        let error = #expect(throws: HTTPClientError.self) { try client.get(server.url("/hello", scheme: "https")) }
        #expect(error?.kind == .tlsVerificationFailed)
        #expect(error?.message == "TLS: certificate verification failed: IP address mismatch")
    }

    @Test func plainHTTPToATLSPortFailsClearly() throws {
        let client = try BlockingHTTPClient(timeout: 2)
        #expect(throws: HTTPClientError.self) { try client.get(server.url("/hello")) }
    }

    @Test func missingCAFileIsAnError() {
        let error = #expect(throws: HTTPClientError.self) { try BlockingHTTPClient(caFile: "/nonexistent/ca.pem") }
        #expect(error?.description.contains("cannot read CA file /nonexistent/ca.pem") == true)
    }

    @Test func handshakeTimeout() throws {
        // A plain server that never answers the ClientHello.
        let plain = try LoopbackServer()
        let client = try BlockingHTTPClient(timeout: 1)
        let (caught, seconds) = timedFailure { () throws(HTTPClientError) in
            _ = try client.get("https://127.0.0.1:\(plain.port)/sleep")
        }
        #expect(caught?.kind == .timedOut && caught?.phase == .tlsHandshake)
        #expect(seconds < 1.5, "took \(seconds)s")
    }
}
