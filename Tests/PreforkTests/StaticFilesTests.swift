import HTTPTypes
import PreforkCore
import Testing

@testable import Prefork

#if canImport(Glibc)
    import Glibc
#endif

/// A temporary tree: `<base>/outside.txt`, `<base>/v1/...` served through `<base>/static`, a
/// symlink to `v1` (the root may be a symlink).
final class StaticTree {
    let base: String
    var root: String { base + "/static" }

    init() throws {
        var template = Array("/tmp/prefork-static-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        base = String(cString: made)
        try mkdir("v1")
        try mkdir("v1/css")
        try write("outside.txt", "secret\n")
        try write("v1/hello.txt", "Hello, static!\n")
        try write("v1/css/app.3f2a9c1b7d4e.css", "body { color: red }\n")
        try write("v1/empty.txt", "")
        try write("v1/.env", "SECRET_KEY=x\n")
        try write("v1/a b.txt", "space\n")
        try link("v1", "static")
        try link(base + "/outside.txt", "v1/escape.txt")
        try link(base, "v1/up")
        try link("hello.txt", "v1/inside-link.txt")
    }

    deinit {
        _ = system("rm -rf '\(base)'")
    }

    func mkdir(_ path: String) throws {
        guard Glibc.mkdir(base + "/" + path, 0o755) == 0 else { throw TestFailure("mkdir \(path)") }
    }

    func write(_ path: String, _ text: String) throws {
        let fd = open(base + "/" + path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TestFailure("open \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.isEmpty || Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("write") }
    }

    func link(_ target: String, _ path: String) throws {
        guard symlink(target, base + "/" + path) == 0 else { throw TestFailure("symlink \(path)") }
    }
}

@Suite struct StaticFilesTests {
    let tree: StaticTree
    let files: StaticFiles

    init() throws {
        tree = try StaticTree()
        files = StaticFiles(root: tree.root)
    }

    func get(_ path: String, _ headers: [String] = [], method: String = "GET") throws -> Response {
        let fields = headers.map { $0 + "\r\n" }.joined()
        return files.response(for: try makeRequest("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(fields)\r\n"))
    }

    func text(_ response: Response) -> String {
        response.body.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func servesAFileWithValidatorsAndType() throws {
        let response = try get("/static/hello.txt")
        #expect(response.status == .ok)
        #expect(text(response) == "Hello, static!\n")
        #expect(response.body.count == 15)
        #expect(response.headers.value(of: "content-type") == "text/plain; charset=utf-8")
        #expect(response.headers.value(of: "cache-control") == "no-cache")
        #expect(response.headers.value(of: "accept-ranges") == "bytes")
        #expect(response.headers.value(of: "x-content-type-options") == "nosniff")
        let etag = try #require(response.headers.value(of: "etag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        let lastModified = try #require(response.headers.value(of: "last-modified"))
        #expect(HTTPDateParser.epochSeconds(lastModified) != nil)
        guard case .file = response.body else {
            Issue.record("expected a sendfile body")
            return
        }
    }

    @Test func hashedNamesAreImmutable() throws {
        let response = try get("/static/css/app.3f2a9c1b7d4e.css")
        #expect(response.status == .ok)
        #expect(response.headers.value(of: "cache-control") == "public, max-age=31536000, immutable")
        #expect(response.headers.value(of: "content-type") == "text/css; charset=utf-8")
    }

    @Test func percentDecodedNames() throws {
        #expect(text(try get("/static/a%20b.txt")) == "space\n")
    }

    @Test(arguments: [
        "/static/", "/static/missing.txt", "/static/css", "/static/css/", "/static/../outside.txt",
        "/static/%2e%2e/outside.txt", "/static/..%2foutside.txt", "/static/css%2f..%2fhello.txt",
        "/static/hello.txt%00.css", "/static/css\\app.3f2a9c1b7d4e.css", "/static/.env", "/static/%2eenv",
        "/static//hello.txt", "/static/./hello.txt", "/static/escape.txt", "/static/up/outside.txt",
        "/static/inside-link.txt", "/static/hello.txt/", "/other/hello.txt",
    ])
    func refusedAs404(path: String) throws {
        let response = try get(path)
        #expect(response.status == .notFound, "\(path)")
        #expect(response.headers.value(of: "etag") == nil)
    }

    @Test func missingRootIs404() throws {
        let response = StaticFiles(root: tree.base + "/nope").response(
            for: try makeRequest("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(response.status == .notFound)
    }

    @Test func otherMethodsAre405() throws {
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let response = try get("/static/hello.txt", method: method)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers.value(of: "allow") == "GET, HEAD")
        }
        #expect(try get("/static/hello.txt", method: "HEAD").status == .ok)
    }

    @Test func conditionalRequests() throws {
        let first = try get("/static/hello.txt")
        let etag = try #require(first.headers.value(of: "etag"))
        let lastModified = try #require(first.headers.value(of: "last-modified"))

        for condition in [
            "If-None-Match: \(etag)", "If-None-Match: W/\(etag)", "If-None-Match: \"x\", \(etag)",
            "If-None-Match: *", "If-Modified-Since: \(lastModified)",
            "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
        ] {
            let response = try get("/static/hello.txt", [condition])
            #expect(response.status == .notModified, "\(condition)")
            #expect(response.body.count == 0)
            #expect(response.headers.value(of: "etag") == etag)
            #expect(response.headers.value(of: "cache-control") == "no-cache")
        }
        for condition in [
            "If-None-Match: \"x\"", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT",
            "If-Modified-Since: not a date",
            // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
            "If-None-Match: \"x\"\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
        ] {
            #expect(try get("/static/hello.txt", [condition]).status == .ok, "\(condition)")
        }
    }

    @Test func ranges() throws {
        let partial = try get("/static/hello.txt", ["Range: bytes=7-12"])
        #expect(partial.status == .partialContent)
        #expect(text(partial) == "static")
        #expect(partial.headers.value(of: "content-range") == "bytes 7-12/15")

        let suffix = try get("/static/hello.txt", ["Range: bytes=-2"])
        #expect(text(suffix) == "!\n")
        #expect(suffix.headers.value(of: "content-range") == "bytes 13-14/15")

        let clamped = try get("/static/hello.txt", ["Range: bytes=13-1000"])
        #expect(clamped.headers.value(of: "content-range") == "bytes 13-14/15")

        let unsatisfiable = try get("/static/hello.txt", ["Range: bytes=15-"])
        #expect(unsatisfiable.status == .rangeNotSatisfiable)
        #expect(unsatisfiable.headers.value(of: "content-range") == "bytes */15")

        #expect(try get("/static/hello.txt", ["Range: bytes=0-1,4-5"]).status == .ok)
        #expect(try get("/static/hello.txt", ["Range: bytes=x"]).status == .ok)
        #expect(try get("/static/hello.txt", ["Range: bytes=0-1"], method: "HEAD").status == .ok)
        #expect(try get("/static/empty.txt", ["Range: bytes=0-"]).status == .rangeNotSatisfiable)
        #expect(try get("/static/empty.txt").status == .ok)
    }

    @Test func ifRange() throws {
        let etag = try #require(try get("/static/hello.txt").headers.value(of: "etag"))
        let lastModified = try #require(try get("/static/hello.txt").headers.value(of: "last-modified"))
        #expect(try get("/static/hello.txt", ["Range: bytes=0-1", "If-Range: \(etag)"]).status == .partialContent)
        #expect(
            try get("/static/hello.txt", ["Range: bytes=0-1", "If-Range: \(lastModified)"]).status == .partialContent)
        #expect(try get("/static/hello.txt", ["Range: bytes=0-1", "If-Range: \"old\""]).status == .ok)
        #expect(try get("/static/hello.txt", ["Range: bytes=0-1", "If-Range: W/\(etag)"]).status == .ok)
        #expect(
            try get("/static/hello.txt", ["Range: bytes=0-1", "If-Range: Thu, 01 Jan 1970 00:00:00 GMT"]).status == .ok)
    }

    @Test func rootSymlinkIsFollowedPerRequest() throws {
        try tree.mkdir("v2")
        try tree.write("v2/hello.txt", "version two\n")
        #expect(text(try get("/static/hello.txt")) == "Hello, static!\n")
        guard rename(tree.base + "/static", tree.base + "/old") == 0 else { throw TestFailure("rename") }
        try tree.link("v2", "static")
        #expect(text(try get("/static/hello.txt")) == "version two\n")
    }
}
