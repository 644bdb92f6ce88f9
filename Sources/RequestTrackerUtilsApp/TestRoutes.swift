import Prefork

#if canImport(Glibc)
    import Glibc
#endif

/// Routes that exist only when `enable_test_routes` is on: for the server's own tests.
enum TestRoutes {
    /// `GET /test/routes`: every route of `router` and this one, a line each (`GET /labels/:tag`,
    /// `* /static/*` for any method), so a test can walk them all and none is forgotten. Add
    /// it last.
    static func addRouteList(to router: inout Router) {
        var lines = router.patterns.map { "\($0.method?.rawValue ?? "*") \($0.pattern)\n" }
        lines.append("GET /test/routes\n")
        let text = lines.joined()
        router.get("/test/routes") { _ in .text(text) }
    }

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
