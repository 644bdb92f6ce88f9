import Logging
import Prefork
import PreforkCore

#if canImport(Glibc)
import Glibc
#endif

/// Request Tracker Utils: the school district IT team's tool (asset tags, labels, device
/// check-in), served by Prefork. Its features come with the application issue; for now it
/// serves the pages the server is tested and benchmarked with.
public struct RequestTrackerUtils: PreforkApplication {
    public init() {}

    public var name: String { "request-tracker-utils" }
    public var version: String { "0.1.0" }

    public var settings: [AnySetting] { AppSettings.all }
    public var commands: [ApplicationCommand] { RTCommands.all }

    public func makeHandler(_ configuration: Configuration, logger: Logger) throws -> Handler {
        try WorkingDirectory.prepare(configuration[AppSettings.workingDir])
        var router = Router()
        router.get("/") { _ in .html(Pages.home) }
        router.get("/hello") { _ in
            Response(status: .ok, headers: Pages.plainText, body: .staticString("Hello, World!"))
        }
        router.get("/healthz") { _ in .text("ok\n") }
        if configuration[.enableTestRoutes] {
            TestRoutes.add(to: &router)
            logger.warning("test routes are on (/echo, /sleep, /crash): never in production")
        }
        let routes = router
        return { request in try routes.handle(request) }
    }
}

enum Pages {
    static let plainText = ResponseHeaders(contentType: "text/plain")

    static let home = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Request Tracker Utils</title></head>
        <body>
        <h1>Request Tracker Utils</h1>
        <p>Asset tags, printable labels and device check-in for the IT team.</p>
        </body>
        </html>

        """
}

/// Routes that exist only when `enable_test_routes` is on: for the server's own tests.
enum TestRoutes {
    static func add(to router: inout Router) {
        router.post("/echo") { request in
            .bytes(request.body, contentType: request.header("content-type") ?? "application/octet-stream")
        }
        router.get("/sleep") { request in
            let milliseconds = Int(request.queryItems["ms"] ?? "") ?? 1000
            var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            return .text("slept \(milliseconds) ms\n")
        }
        router.get("/crash") { _ in
            fatalError("GET /crash: a test route that traps the worker")
        }
        router.get("/error") { _ in
            struct Failure: Error, CustomStringConvertible { var description: String { "GET /error: a test failure" } }
            throw Failure()
        }
    }
}

/// `WORKING_DIR`: the database, collected static files, uploads and logs live under it.
enum WorkingDirectory {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func prepare(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw Failure(description: "WORKING_DIR \(path) exists and is not a directory")
            }
            guard access(path, W_OK) == 0 else {
                throw Failure(description: "WORKING_DIR \(path) is not writable by this user (fix its owner or mode)")
            }
            return
        }
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw Failure(
                description: "cannot create WORKING_DIR \(path): \(String(cString: strerror(errno))) (create it or set WORKING_DIR)")
        }
    }
}
