import Logging
import Prefork
import PreforkCore

#if canImport(Glibc)
import Glibc
#endif

/// Request Tracker Utils: the school district IT team's tool (asset tags, printable labels,
/// device check-in), served by Prefork, with SQLite in `WORKING_DIR` and Request Tracker
/// behind its REST 2.0 API.
public struct RequestTrackerUtils: PreforkApplication {
    public init() {}

    public var name: String { "request-tracker-utils" }
    public var version: String { "0.2.0" }

    public var settings: [AnySetting] { AppSettings.all }

    public var commands: [ApplicationCommand] { AppCommands.all + RTCommands.all }

    /// Checked in the master before anything binds, so a bad start stops with one line per
    /// problem: RT credentials when RT_URL is set, and production mode's requirements.
    public func validate(_ configuration: Configuration) throws {
        var errors: [ConfigurationError] = []
        // Credentials only: the master makes no RT client (no OpenSSL before the fork).
        if !configuration[RTSettings.url].isEmpty && configuration[RTSettings.token].isEmpty
            && configuration[RTSettings.username].isEmpty
        {
            errors.append(
                ConfigurationError(
                    "setting 'rt_url' from \(configuration.source(of: RTSettings.url.name)) is set but RT has no "
                        + "credentials: set RT_TOKEN (or RT_USERNAME and RT_PASSWORD) in the secrets file, or unset RT_URL",
                    setting: RTSettings.url.name))
        }
        if !configuration[AppSettings.debug] {
            errors += Self.productionProblems(configuration)
        }
        if !errors.isEmpty { throw ConfigurationErrors(errors) }
    }

    /// Production mode (debug off) needs a strong SECRET_KEY and ALLOWED_HOSTS.
    static func productionProblems(_ configuration: Configuration) -> [ConfigurationError] {
        var errors: [ConfigurationError] = []
        let key = configuration[AppSettings.secretKey] ?? ""
        let keySource = configuration.source(of: AppSettings.secretKey.name)
        if key.isEmpty {
            errors.append(
                ConfigurationError(
                    "setting 'secret_key' (SECRET_KEY) is not set, and production mode (debug off) needs it: "
                        + SecretKeyPolicy.remedy, setting: AppSettings.secretKey.name))
        } else if let weakness = SecretKeyPolicy.weakness(key) {
            errors.append(
                ConfigurationError(
                    "setting 'secret_key' from \(keySource) \(weakness): " + SecretKeyPolicy.remedy,
                    setting: AppSettings.secretKey.name))
        }
        if configuration[AppSettings.allowedHosts].isEmpty {
            errors.append(
                ConfigurationError(
                    "setting 'allowed_hosts' (ALLOWED_HOSTS) is empty, and production mode (debug off) needs it: "
                        + "list the host names this site is reached by, like ALLOWED_HOSTS=rtutils.example.org,localhost",
                    setting: AppSettings.allowedHosts.name))
        }
        return errors
    }

    public func makeHandler(_ configuration: Configuration, logger: Logger) throws -> Handler {
        let workingDirectory = configuration[AppSettings.workingDir]
        try WorkingDirectory.prepare(workingDirectory)
        let debug = configuration[AppSettings.debug]
        let database = try AppDatabase.open(path: AppDatabase.path(workingDirectory: workingDirectory))
        let readiness = Readiness(database: database, staticDirectory: CollectStatic.directory(workingDirectory: workingDirectory))
        let state = readiness.check()
        if !state.ready { logger.warning("not ready: \(state.problems.joined(separator: "; "))") }
        let secret: String
        if let key = configuration[AppSettings.secretKey], !key.isEmpty {
            secret = key
        } else {
            secret = try DebugSecret.load(workingDirectory: workingDirectory)
        }
        let context = AppContext(
            workingDirectory: workingDirectory, debug: debug, database: database,
            tags: AssetTagStore(
                database: database, prefix: configuration[AppSettings.prefix], padding: configuration[AppSettings.padding]),
            checkins: CheckinStore(database: database),
            manifest: readiness.manifest() ?? StaticManifest(paths: [:]),
            csrf: CSRF(key: Array(secret.utf8)),
            labelWidthMm: configuration[AppSettings.labelWidthMm], labelHeightMm: configuration[AppSettings.labelHeightMm],
            logger: logger)

        var router = Router()
        router.get("/") { _ in HomePage(context: context).render() }
        router.get("/hello") { _ in
            Response(status: .ok, headers: ResponseHeaders(contentType: "text/plain"), body: .staticString("Hello, World!"))
        }
        router.get("/healthz") { _ in .text("ok\n") }
        router.get("/readyz") { _ in readiness.response() }
        // Collected static files, for running without nginx (behind nginx, let it serve /static/).
        router.add(nil, "/static/*", StaticFiles(root: CollectStatic.directory(workingDirectory: workingDirectory)).handler)
        let requestTracker = try RTSettings.client(from: configuration).map { client in
            RequestTrackerBridge(
                client: client, baseURL: configuration[RTSettings.url], checkinOwner: configuration[RTSettings.checkinOwner],
                repairQueue: configuration[RTSettings.repairQueue], logger: logger)
        }
        TagRoutes(context: context).add(to: &router)
        CheckinRoutes(context: context, requestTracker: requestTracker).add(to: &router)
        LabelRoutes(context: context, directory: requestTracker).add(to: &router)
        AssetRoutes(context: context, bridge: requestTracker).add(to: &router)
        if configuration[.enableTestRoutes] {
            TestRoutes.add(to: &router)
            logger.warning("test routes are on (/echo, /sleep, /crash): never in production")
        }
        let routes = router
        let hosts = HostPatterns(
            configuration[AppSettings.allowedHosts] + (debug ? HostPatterns.debugDefaults : []))
        return { request in
            // Health checks answer whatever the Host: monitors and nginx probe by address.
            guard hosts.allows(request.header("host")) || request.path == "/healthz" || request.path == "/readyz" else {
                let host = request.header("host") ?? "(none)"
                logger.warning(
                    "invalid Host header \(JSONText.quote(host)): add it to ALLOWED_HOSTS if this site is served under it",
                    metadata: ["REMOTE_ADDR": "\(request.remoteAddress)"])
                return .error(.badRequest, message: "400 Bad Request: the Host header is not served here")
            }
            do {
                return try routes.handle(request)
            } catch let error where AppDatabase.isDatabaseError(error) {
                logger.error("database error on \(request.method.rawValue) \(request.path): \(error)")
                let detail = debug ? " (\(error))" : ""
                return .error(
                    .serviceUnavailable,
                    message: "503 Service Unavailable: the database is not available\(detail); the operator can check "
                        + "/readyz and run `request-tracker-utils migrate`")
            }
        }
    }
}

/// The home page: what the tool does, with the day's figures.
struct HomePage {
    let context: AppContext

    /// Renders even before `migrate`, saying what is missing, so the first page an operator
    /// opens explains itself.
    func render() -> Response {
        let today = Timestamp.now().localDate
        var figures: String
        do {
            let next = try context.tags.peekNext()
            let checkins = try context.checkins.list(from: today, to: today).count
            figures = """
                <div class="stats"><div><b class="tag">\(HTML.escape(next))</b>next asset tag</div>
                <div><b>\(checkins)</b>check-ins today</div></div>
                """
        } catch {
            figures = HTML.message(
                "The database is not ready: run `request-tracker-utils migrate` (see /readyz).", ok: false)
        }
        return context.page(
            "Request Tracker Utils",
            """
            <p>Asset tags, printable labels and device check-in for the IT team.</p>
            \(figures)
            <ul>
            <li><a href="/tags">Issue asset tags</a> and see the ones issued</li>
            <li><a href="/labels">Print labels</a> with a QR code to the asset in Request Tracker and a barcode of its tag</li>
            <li><a href="/checkin">Check in a returned device</a>, and see <a href="/checkins">today's check-ins</a></li>
            <li><a href="/assets">Look up an asset</a> in Request Tracker by tag or serial number</li>
            </ul>
            """)
    }
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
