import Logging
import Prefork

#if canImport(Glibc)
    import Glibc
#endif

/// Routes that exist only when `enable_test_routes` is on: for the server's own tests.
enum TestRoutes {
    /// Every path these routes answer (public without sign-in: see ``SignInRoutes``).
    static let paths: Set<String> = ["/echo", "/sleep", "/crash", "/error", "/test/routes", "/test/jobs", "/grow"]

    /// What `GET /grow` keeps: memory a worker never gives back, as a leak would.
    nonisolated(unsafe) static var kept: [[UInt8]] = []

    /// `POST /test/jobs?seconds=N`: a job that only waits N seconds (a step a second), for the
    /// job workers' tests; answers `{"id": ID}`.
    static func addJobRoute(to router: inout Router, database: AppDatabase) {
        router.post("/test/jobs") { request in
            let seconds = max(0, min(3600, Int(request.queryItems["seconds"] ?? "") ?? 1))
            let id = try database.write { db in
                try JobStore.enqueue(
                    db, kind: AppJobRunner.testSleepKind, payload: "\(seconds)", total: seconds, createdBy: "test")
            }
            return JSONAnswer.response(["id": id], status: .created)
        }
    }

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
        // `?mb=N` allocates N MiB, writes every page and keeps it (for max_worker_memory).
        router.get("/grow") { request in
            let megabytes = max(0, min(4096, Int(request.queryItems["mb"] ?? "") ?? 0))
            for _ in 0..<megabytes { kept.append([UInt8](repeating: 1, count: 1 << 20)) }
            return .text("grew \(megabytes) MiB in \(getpid())\n")
        }
        router.post("/echo") { request in
            .bytes(request.body, contentType: request.header("content-type") ?? "application/octet-stream")
        }
        // `?ms=N` sleeps N ms (default 1000); `&mask_abort=1` blocks SIGABRT meanwhile, as a
        // handler stuck where SIGABRT does not end it, so the master must follow with SIGKILL.
        router.get("/sleep") { request in
            let milliseconds = Int(request.queryItems["ms"] ?? "") ?? 1000
            let maskAbort = request.queryItems["mask_abort"] == "1"
            var abort = sigset_t()
            sigemptyset(&abort)
            sigaddset(&abort, SIGABRT)
            if maskAbort { sigprocmask(SIG_BLOCK, &abort, nil) }
            defer { if maskAbort { sigprocmask(SIG_UNBLOCK, &abort, nil) } }
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

    /// `TEST_HANG_AT_BOOT=PATH` (honoured only with test routes on): the first worker to create
    /// PATH hangs in its boot for good, as an application whose start-up waits on a lock that
    /// never frees; later workers find PATH there and boot normally. For the `boot_timeout` test.
    static func hangAtBootIfAsked(logger: Logger) {
        guard let value = getenv("TEST_HANG_AT_BOOT"), value.pointee != 0 else { return }
        let fd = open(value, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        close(fd)
        logger.warning("TEST_HANG_AT_BOOT: this worker hangs in its boot (test routes are on)")
        while true { pause() }
    }
}
