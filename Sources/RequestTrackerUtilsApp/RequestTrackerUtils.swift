import Logging
import Prefork
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// Request Tracker Utils: the school district IT team's tool (asset tags, printable labels,
/// device check-in), served by Prefork, with SQLite in `WORKING_DIR` (or PostgreSQL) and Request Tracker
/// behind its REST 2.0 API.
public struct RequestTrackerUtils: PreforkApplication {
    public init() {}

    public var name: String { "request-tracker-utils" }
    public var version: String { "0.2.0" }

    public var settings: [AnySetting] { AppSettings.all }

    public var commands: [ApplicationCommand] {
        AppCommands.all + [UserCommand.command, TagsCommand.command, StudentsCommand.command] + RTCommands.all
    }

    /// Checked in the master before anything binds, so a bad start stops with one line per
    /// problem: RT credentials when RT_URL is set, and production mode's requirements.
    public func validate(_ configuration: Configuration) throws {
        var errors: [ConfigurationError] = []
        if RTSettings.lacksCredentials(configuration) {
            errors.append(
                ConfigurationError(
                    "setting 'rt_url' from \(configuration.source(of: RTSettings.url.name)) is set but RT has no "
                        + "credentials: set RT_TOKEN (or RT_USERNAME and RT_PASSWORD) in the secrets file, or unset RT_URL",
                    setting: RTSettings.url.name))
        }
        // A worker waiting on RT longer than `timeout` would be killed mid-call: RT being slow
        // must end as a 504 page, not a WORKER TIMEOUT.
        if !configuration[RTSettings.url].isEmpty,
            let problem = AppSettings.belowWorkerTimeout(configuration, RTSettings.timeout, what: "RT")
        {
            errors.append(problem)
        }
        if let problem = DatabaseSettings.timeoutProblem(configuration) { errors.append(problem) }
        errors += DirectorySettings.problems(configuration)
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

    /// In the master before the first fork: warm OpenSSL (see `Preload`).
    public func preload(_ configuration: Configuration, logger: Logger) {
        Preload.warmOpenSSL()
    }

    /// The audit prefetch runs in job workers (`job_workers`).
    public var runsJobs: Bool { true }

    public func makeJobRunner(_ configuration: Configuration, logger: Logger) throws -> any JobRunner {
        try AppJobRunner(configuration, logger: logger)
    }

    public func makeHandler(_ configuration: Configuration, logger: Logger) throws -> Handler {
        if configuration[AppSettings.enableTestRoutes] { TestRoutes.hangAtBootIfAsked(logger: logger) }
        let workingDirectory = configuration[AppSettings.workingDir]
        try WorkingDirectory.prepare(workingDirectory)
        let debug = configuration[AppSettings.debug]
        let database = try AppDatabase.open(configuration, applicationName: "request-tracker-utils worker")
        let readiness = Readiness(
            database: database, staticDirectory: CollectStatic.directory(workingDirectory: workingDirectory))
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
                database: database, prefix: configuration[AppSettings.prefix],
                padding: configuration[AppSettings.padding]),
            checkins: CheckinStore(database: database),
            staticFiles: ManifestSource(directory: CollectStatic.directory(workingDirectory: workingDirectory)),
            csrf: CSRF(key: Array(secret.utf8)),
            labels: LabelSettings.options(from: configuration),
            logger: logger)

        var router = Router()
        router.get("/") { request in HomePage(context: context).render(user: request.user) }
        router.get("/hello") { _ in
            Response(
                status: .ok, headers: ResponseHeaders(contentType: "text/plain"), body: .staticString("Hello, World!"))
        }
        router.get("/healthz") { _ in .text("ok\n") }
        router.get("/readyz") { _ in readiness.response() }
        // Collected static files, for running without nginx (behind nginx, let it serve /static/).
        router.add(
            nil, "/static/*", StaticFiles(root: CollectStatic.directory(workingDirectory: workingDirectory)).handler)
        let requestTracker = try RTSettings.client(from: configuration).map { client in
            RequestTrackerBridge(
                client: client, baseURL: configuration[RTSettings.url],
                checkinOwner: configuration[RTSettings.checkinOwner],
                repairQueue: configuration[RTSettings.repairQueue], logger: logger,
                batchSeconds: RequestTrackerBridge.batchSeconds(
                    rtTimeout: client.configuration.timeout, workerTimeout: configuration[.timeout].value))
        }
        TagRoutes(context: context).add(to: &router)
        AssetTagRoutes(context: context, bridge: requestTracker).add(to: &router)
        IntakeRoutes(context: context, bridge: requestTracker).add(to: &router)
        CheckinRoutes(context: context, requestTracker: requestTracker).add(to: &router)
        StudentRoutes(context: context).add(to: &router)
        AuditRoutes(context: context, prefetch: requestTracker != nil).add(to: &router)
        JobRoutes(context: context).add(to: &router)
        LabelRoutes(context: context, directory: requestTracker).add(to: &router)
        AssetRoutes(context: context, bridge: requestTracker).add(to: &router)
        if configuration[AppSettings.enableTestRoutes] {
            TestRoutes.add(to: &router)
            TestRoutes.addJobRoute(to: &router, database: database)
            TestRoutes.addRouteList(to: &router)
            logger.warning("test routes are on (/echo, /sleep, /crash): never in production")
        }
        let signIn = SignInRoutes(
            context: context, accounts: AccountStore(database: database),
            sessions: SessionStore(
                database: database,
                policy: SessionPolicy(
                    idleTimeout: Int(configuration[AppSettings.sessionIdleTimeout].value),
                    absoluteTimeout: Int(configuration[AppSettings.sessionMaxAge].value))),
            throttle: SignInThrottle(
                database: database,
                policy: ThrottlePolicy(
                    limit: configuration[AppSettings.signInFailureLimit],
                    window: Int(configuration[AppSettings.signInFailureWindow].value))),
            directory: DirectoryAuthenticator(configuration),
            testRoutes: configuration[AppSettings.enableTestRoutes])
        signIn.add(to: &router)
        let hosts = HostPatterns(
            configuration[AppSettings.allowedHosts] + (debug ? HostPatterns.debugDefaults : []))
        return Self.guarded(signIn.guarded(router), hosts: hosts, debug: debug, logger: logger)
    }

    /// The routes behind the Host check, with database failures as a 503 page (logged at most
    /// once per 10 s per worker while they last).
    static func guarded(_ routes: @escaping Handler, hosts: HostPatterns, debug: Bool, logger: Logger) -> Handler {
        let databaseErrors = ErrorLogThrottle()
        return { request in
            // Health checks answer whatever the Host: monitors and nginx probe by address.
            guard hosts.allows(request.header("host")) || request.path == "/healthz" || request.path == "/readyz" else {
                let host = request.header("host") ?? "(none)"
                logger.warning(
                    "invalid Host header \(host.debugDescription): add it to ALLOWED_HOSTS if this site is served under it",
                    metadata: ["REMOTE_ADDR": "\(request.remoteAddress)"])
                return .error(.badRequest, message: "400 Bad Request: the Host header is not served here")
            }
            do {
                return try routes(request)
            } catch let error where AppDatabase.isDatabaseError(error) {
                if let line = databaseErrors.line(
                    "database error on \(request.method.rawValue) \(request.path): \(error)",
                    now: Timestamp.now().seconds)
                {
                    logger.error("\(line)")
                }
                let detail = debug ? " (\(error))" : ""
                return .error(
                    .serviceUnavailable,
                    message: "503 Service Unavailable: the database is not available\(detail); the operator can check "
                        + "/readyz and run `request-tracker-utils migrate`")
            }
        }
    }
}
