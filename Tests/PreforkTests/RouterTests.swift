import HTTPTypes
import PreforkCore
import Testing

@testable import Prefork

@Suite struct RouterTests {
    var router: Router {
        var router = Router()
        router.get("/") { _ in .text("root") }
        router.get("/hello") { _ in .text("hello") }
        router.get("/assets/:tag") { request in .text("asset \(request.parameters["tag"] ?? "")") }
        router.post("/assets/:tag") { _ in .text("posted") }
        router.get("/static/*") { request in .text("file \(request.parameters["*"] ?? "")") }
        return router
    }

    func body(_ response: Response) -> String {
        response.body.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func literalAndCaptures() throws {
        #expect(body(try router.handle(makeRequest("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))) == "root")
        #expect(body(try router.handle(makeRequest("GET /hello?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"))) == "hello")
        #expect(
            body(try router.handle(makeRequest("GET /assets/W12-0001 HTTP/1.1\r\nHost: x\r\n\r\n"))) == "asset W12-0001"
        )
        #expect(body(try router.handle(makeRequest("GET /assets/a%20b HTTP/1.1\r\nHost: x\r\n\r\n"))) == "asset a b")
        #expect(
            body(try router.handle(makeRequest("GET /static/css/site.css HTTP/1.1\r\nHost: x\r\n\r\n")))
                == "file css/site.css")
    }

    @Test func notFoundAndMethodNotAllowed() throws {
        #expect(try router.handle(makeRequest("GET /hello/x HTTP/1.1\r\nHost: x\r\n\r\n")).status == .notFound)
        #expect(try router.handle(makeRequest("GET /assets/ HTTP/1.1\r\nHost: x\r\n\r\n")).status == .notFound)
        let response = try router.handle(makeRequest("DELETE /assets/1 HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers.value(of: "allow") == "GET, POST")
    }

    @Test func headUsesGetRoute() throws {
        #expect(body(try router.handle(makeRequest("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"))) == "hello")
    }
}

@Suite struct RequestTests {
    @Test func fieldsAndQuery() throws {
        let request = try makeRequest("GET /p?a=1&b=two+words HTTP/1.1\r\nHost: h\r\nX-Thing:  v  \r\n\r\n")
        #expect(request.method == .get)
        #expect(request.path == "/p")
        #expect(request.query == "a=1&b=two+words")
        #expect(request.queryItems == ["a": "1", "b": "two words"])
        #expect(request.header("x-thing") == "v")
        #expect(request.header("X-THING") == "v")
        #expect(request.header("missing") == nil)
        #expect(request.requestID == "0000000000000abc")
    }

    @Test func forwardedHeadersOnlyFromTrustedPeers() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n\r\n"
        let trusted = try makeRequest(text, peer: "127.0.0.1")
        #expect(trusted.remoteAddress == "203.0.113.7")
        #expect(trusted.scheme == "https")
        let direct = try makeRequest(text, peer: "198.51.100.2")
        #expect(direct.remoteAddress == "198.51.100.2")
        #expect(direct.scheme == "http")
    }

    @Test func convertsToHTTPTypes() throws {
        let request = try makeRequest("POST /x?y HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\r\n")
        let converted = request.httpRequest
        #expect(converted.method == .post)
        #expect(converted.path == "/x?y")
        #expect(converted.authority == "h")
        #expect(converted.headerFields[.contentType] == "text/plain")
    }
}

@Suite struct ResponseWriterTests {
    func written(_ response: Response, persistence: ResponseWriter.Persistence = .keepAlive, head: Bool = false)
        -> String
    {
        var writer = ResponseWriter(serverName: "test")
        writer.tick(realtimeNanos: 1_795_278_600 * 1_000_000_000)
        var out: [UInt8] = []
        writer.write(response, requestID: .generated(0x1F), persistence: persistence, headOnly: head, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func fullResponse() {
        let text = written(.text("hi"))
        #expect(
            text == "HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 16:30:00 GMT\r\nServer: test\r\nContent-Length: 2\r\n"
                + "X-Request-ID: 000000000000001f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi")
    }

    @Test func connectionFieldAndHead() {
        #expect(written(.text("hi"), persistence: .close).contains("Connection: close\r\n"))
        #expect(written(.text("hi"), persistence: .keepAliveHTTP10).contains("Connection: keep-alive\r\n"))
        let head = written(.text("hello"), head: true)
        #expect(head.contains("Content-Length: 5\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    @Test func noBodyFor204And304() {
        let text = written(Response(status: .noContent, body: .string("ignored")))
        #expect(!text.contains("Content-Length"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test func headerValuesCannotSplitTheResponse() {
        var headers = ResponseHeaders()
        headers.add("X-Note", "a\r\nSet-Cookie: evil=1")
        let text = written(Response(headers: headers, body: .empty))
        #expect(text.contains("X-Note: a  Set-Cookie: evil=1\r\n"))
    }

    @Test func decimalFormatting() {
        for value in [0, 7, 10, 99, 100, 65_536, 1_234_567_890] {
            var out: [UInt8] = []
            appendDecimal(value, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }
}
