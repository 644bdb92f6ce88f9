/// The server's own settings. Read them as `configuration[.workers]`; an application adds its
/// own keys to the same registry with `SettingsRegistry(ServerSettings.serverSettings + mine)`.
public enum ServerSettings {
    public static let serverSettings: [AnySetting] = [
        bind.any, backlog.any, reusePort.any, unixSocketMode.any, metricsBind.any,
        workers.any, jobWorkers.any, maxRequests.any, maxWorkerMemory.any, maxRequestsJitter.any, maxConnections.any,
        timeout.any, jobTimeout.any, gracefulTimeout.any, bootTimeout.any, keepalive.any, headerTimeout.any,
        limitRequestLine.any, limitRequestFields.any, limitRequestFieldSize.any, limitRequestBody.any,
        forwardedAllowIPs.any,
        pid.any, user.any, group.any, umask.any, chdir.any, procName.any,
        accessLogfile.any, accessLogFormat.any, errorLogfile.any, logLevel.any, journal.any,
    ]

    /// The registry of the server's settings alone.
    public static var registry: SettingsRegistry { SettingsRegistry(serverSettings) }

    // MARK: Server socket

    static let bind = SettingKey<[String]>(
        "bind", section: "Server socket", short: "b", default: ["127.0.0.1:8000"],
        doc: "Addresses to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N; repeat the flag for several. "
            + "If PORT is set in the environment, the default is 0.0.0.0:$PORT.",
        hint: "use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N",
        validate: SettingValidators.listenAddresses,
        defaultFromEnvironment: { environment in
            guard let text = environment["PORT"], let port = Int(text), (1...65535).contains(port) else { return nil }
            return ["0.0.0.0:\(port)"]
        }, defaultEnvironment: ["PORT"])

    static let backlog = SettingKey<Int>(
        "backlog", section: "Server socket", default: 2048,
        doc: "Connections the kernel queues before accept; beyond it clients see refused or slow connects "
            + "(capped by net.core.somaxconn).",
        hint: SettingValidators.rangeHint(1...65535), validate: SettingValidators.range(1...65535))

    static let reusePort = SettingKey<Bool>(
        "reuse_port", section: "Server socket", default: false,
        doc:
            "Give each worker its own SO_REUSEPORT socket so the kernel spreads connections; a dying worker loses its queue."
    )

    static let unixSocketMode = SettingKey<OctalMode>(
        "unix_socket_mode", section: "Server socket", default: 0o660,
        doc: "Permission bits of unix:PATH sockets; 0o660 lets the owner and group (such as the proxy's) connect.",
        validate: SettingValidators.mode(atMost: 0o777))

    static let metricsBind = SettingKey<String?>(
        "metrics_bind", section: "Server socket", default: nil,
        doc: "Serve Prometheus metrics (prefork_*, and the application's) at /metrics on this address, "
            + "such as 127.0.0.1:9100; off when unset. Anyone who reaches it sees them: keep it private.",
        hint: "use HOST:PORT, [IPv6]:PORT or unix:PATH",
        validate: { value in
            guard let value else { return nil }
            return SettingValidators.listenAddresses([value])
        })

    // MARK: Worker processes

    static let workers = SettingKey<Int>(
        "workers", section: "Worker processes", short: "w", env: ["PREFORK_WORKERS", "WEB_CONCURRENCY"], default: 1,
        doc: "Worker processes serving requests; about 2 × cores is a good start. ps shows one line per worker.",
        hint: SettingValidators.rangeHint(1...1024), validate: SettingValidators.range(1...1024))

    static let jobWorkers = SettingKey<Int>(
        "job_workers", section: "Worker processes", env: ["PREFORK_JOB_WORKERS"], default: 1,
        doc: "Processes running the application's background jobs beside the workers; 0 runs none "
            + "(jobs wait). An application without jobs starts none.",
        hint: SettingValidators.rangeHint(0...64), validate: SettingValidators.range(0...64))

    static let maxRequests = SettingKey<Int>(
        "max_requests", section: "Worker processes", default: 0,
        doc: "Restart a worker gracefully after this many requests, to contain leaks; 0 never restarts.",
        hint: SettingValidators.rangeHint(0...Int.max), validate: SettingValidators.atLeast(0))

    static let maxWorkerMemory = SettingKey<Int>(
        "max_worker_memory", section: "Worker processes", default: 0,
        doc: "MiB of a worker's own memory (USS, measured each second) past which it is replaced "
            + "without a gap, as max_requests does, to contain leaks; 0 never.",
        hint: SettingValidators.rangeHint(0...1_048_576), validate: SettingValidators.range(0...1_048_576))

    static let maxRequestsJitter = SettingKey<Int>(
        "max_requests_jitter", section: "Worker processes", default: 0,
        doc: "Add up to this many requests at random to max_requests, so workers do not all restart at once.",
        hint: SettingValidators.rangeHint(0...Int.max), validate: SettingValidators.atLeast(0))

    static let maxConnections = SettingKey<Int>(
        "max_connections", section: "Worker processes", aliases: ["--worker-connections"], default: 1000,
        doc: "Open connections per worker; past it the worker stops accepting until some close.",
        hint: SettingValidators.rangeHint(1...Int.max), validate: SettingValidators.atLeast(1))

    // MARK: Timeouts

    static let timeout = SettingKey<Seconds>(
        "timeout", section: "Timeouts", short: "t", default: 30,
        doc: "A worker silent for this long is killed and replaced (logged as WORKER TIMEOUT); 0 disables the check.")

    static let jobTimeout = SettingKey<Seconds>(
        "job_timeout", section: "Timeouts", default: 600,
        doc: "A job running longer than this is killed (logged as JOB TIMEOUT), retried once, then failed; 0: no limit."
    )

    static let gracefulTimeout = SettingKey<Seconds>(
        "graceful_timeout", section: "Timeouts", default: 30,
        doc: "On stop, restart or reload, workers get this long to finish requests before they are killed.")

    static let bootTimeout = SettingKey<Seconds>(
        "boot_timeout", section: "Timeouts", default: 30,
        doc: "A worker that has not reported ready this long after it started is killed and the failure logged.")

    static let keepalive = SettingKey<Seconds>(
        "keepalive", section: "Timeouts", aliases: ["--keep-alive"], default: 5,
        doc: "Close keep-alive connections idle this long between requests; 0 disables keep-alive.")

    static let headerTimeout = SettingKey<Seconds>(
        "header_timeout", section: "Timeouts", default: 10,
        doc: "Time a client has to send a complete request head; slower clients get 408 and are disconnected.")

    // MARK: Security limits

    static let limitRequestLine = SettingKey<Int>(
        "limit_request_line", section: "Security limits", default: 4094,
        doc: "Longest request line (method, target, version) in bytes; longer gets 414. 0 means unlimited.",
        hint: SettingValidators.rangeHint(0...8190), validate: SettingValidators.range(0...8190))

    static let limitRequestFields = SettingKey<Int>(
        "limit_request_fields", section: "Security limits", default: 100,
        doc: "Most header fields in a request; more gets 431. 0 means unlimited.",
        hint: SettingValidators.rangeHint(0...32768), validate: SettingValidators.range(0...32768))

    static let limitRequestFieldSize = SettingKey<Int>(
        "limit_request_field_size", section: "Security limits", default: 8190,
        doc: "Longest header field (name and value) in bytes; longer gets 431. 0 means unlimited.",
        hint: SettingValidators.rangeHint(0...Int.max), validate: SettingValidators.atLeast(0))

    static let limitRequestBody = SettingKey<Int>(
        "limit_request_body", section: "Security limits", default: 10_485_760,
        doc: "Largest request body in bytes; larger gets 413 before it is read. 0 means unlimited.",
        hint: SettingValidators.rangeHint(0...Int.max), validate: SettingValidators.atLeast(0))

    // MARK: Proxy

    static let forwardedAllowIPs = SettingKey<[String]>(
        "forwarded_allow_ips", section: "Proxy", default: ["127.0.0.1", "::1"],
        doc: "Peers whose X-Forwarded-* headers are trusted (IPs, CIDR blocks, or * for all); "
            + "from others the headers are ignored.",
        hint: "use IP addresses or CIDR blocks, comma-separated, or *",
        validate: SettingValidators.addressPatterns)

    // MARK: Server mechanics

    static let pid = SettingKey<String?>(
        "pid", section: "Server mechanics", short: "p", default: nil,
        doc: "Write the master's process ID to this file, for scripts that send it signals; removed on exit.")

    static let user = SettingKey<String?>(
        "user", section: "Server mechanics", short: "u", default: nil,
        doc: "Workers switch to this user (name or uid) after binding; the master keeps its own.")

    static let group = SettingKey<String?>(
        "group", section: "Server mechanics", short: "g", default: nil,
        doc: "Workers switch to this group (name or gid) after binding.")

    static let umask = SettingKey<OctalMode>(
        "umask", section: "Server mechanics", short: "m", default: 0o022,
        doc: "File mode mask for files the server creates (pid file, logs, unix sockets before unix_socket_mode).",
        validate: SettingValidators.mode(atMost: 0o777))

    static let chdir = SettingKey<String?>(
        "chdir", section: "Server mechanics", default: nil,
        doc: "Change to this directory before loading the application; relative paths then start there.")

    static let procName = SettingKey<String?>(
        "proc_name", section: "Server mechanics", short: "n", aliases: ["--name"], default: nil,
        doc: "Name shown by ps and top for the master and workers; defaults to the program name.")

    // MARK: Logging

    static let accessLogfile = SettingKey<String?>(
        "access_logfile", section: "Logging", default: nil,
        doc:
            "Write one line per request to this file; \"-\" is standard output, \"journal\" sends entries with HTTP_* fields to journald; unset writes no access log."
    )

    static let accessLogFormat = SettingKey<String>(
        "access_log_format", section: "Logging", aliases: ["--access-logformat"],
        default: #"%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(rid)s"#,
        doc: "Access log line format in Gunicorn's %(x)s syntax; %(rid)s is the request ID, %(u)s the user "
            + "the application served the request for (- when none), %(t)s local time; json: one JSON object a line.")

    static let errorLogfile = SettingKey<String>(
        "error_logfile", section: "Logging", aliases: ["--log-file"], default: "-",
        doc: "Where server messages (startup, worker exits, errors) go; \"-\" is standard error.")

    static let journal = SettingKey<JournalMode>(
        "journal", section: "Logging", default: .auto,
        doc: "Send error-log entries to journald with fields (REQUEST_ID, WORKER_PID...): auto (when stderr is the "
            + "journal, as under systemd), always or never. An error_logfile file still gets every line.")

    static let logLevel = SettingKey<LogLevelName>(
        "log_level", section: "Logging", default: .info,
        doc: "Least severe message written to the error log: debug, info, warning, error or critical.")
}

extension SettingKey where Value == [String] {
    public static var bind: SettingKey<[String]> { ServerSettings.bind }
    public static var forwardedAllowIPs: SettingKey<[String]> { ServerSettings.forwardedAllowIPs }
}

extension SettingKey where Value == Int {
    public static var backlog: SettingKey<Int> { ServerSettings.backlog }
    public static var workers: SettingKey<Int> { ServerSettings.workers }
    public static var jobWorkers: SettingKey<Int> { ServerSettings.jobWorkers }
    public static var maxRequests: SettingKey<Int> { ServerSettings.maxRequests }
    public static var maxWorkerMemory: SettingKey<Int> { ServerSettings.maxWorkerMemory }
    public static var maxRequestsJitter: SettingKey<Int> { ServerSettings.maxRequestsJitter }
    public static var maxConnections: SettingKey<Int> { ServerSettings.maxConnections }
    public static var limitRequestLine: SettingKey<Int> { ServerSettings.limitRequestLine }
    public static var limitRequestFields: SettingKey<Int> { ServerSettings.limitRequestFields }
    public static var limitRequestFieldSize: SettingKey<Int> { ServerSettings.limitRequestFieldSize }
    public static var limitRequestBody: SettingKey<Int> { ServerSettings.limitRequestBody }
}

extension SettingKey where Value == Bool {
    public static var reusePort: SettingKey<Bool> { ServerSettings.reusePort }
}

extension SettingKey where Value == OctalMode {
    public static var unixSocketMode: SettingKey<OctalMode> { ServerSettings.unixSocketMode }
    public static var umask: SettingKey<OctalMode> { ServerSettings.umask }
}

extension SettingKey where Value == Seconds {
    public static var timeout: SettingKey<Seconds> { ServerSettings.timeout }
    public static var jobTimeout: SettingKey<Seconds> { ServerSettings.jobTimeout }
    public static var gracefulTimeout: SettingKey<Seconds> { ServerSettings.gracefulTimeout }
    public static var bootTimeout: SettingKey<Seconds> { ServerSettings.bootTimeout }
    public static var keepalive: SettingKey<Seconds> { ServerSettings.keepalive }
    public static var headerTimeout: SettingKey<Seconds> { ServerSettings.headerTimeout }
}

extension SettingKey where Value == String? {
    public static var pid: SettingKey<String?> { ServerSettings.pid }
    public static var metricsBind: SettingKey<String?> { ServerSettings.metricsBind }
    public static var user: SettingKey<String?> { ServerSettings.user }
    public static var group: SettingKey<String?> { ServerSettings.group }
    public static var chdir: SettingKey<String?> { ServerSettings.chdir }
    public static var procName: SettingKey<String?> { ServerSettings.procName }
    public static var accessLogfile: SettingKey<String?> { ServerSettings.accessLogfile }
}

extension SettingKey where Value == String {
    public static var accessLogFormat: SettingKey<String> { ServerSettings.accessLogFormat }
    public static var errorLogfile: SettingKey<String> { ServerSettings.errorLogfile }
}

extension SettingKey where Value == LogLevelName {
    public static var logLevel: SettingKey<LogLevelName> { ServerSettings.logLevel }
}

extension SettingKey where Value == JournalMode {
    public static var journal: SettingKey<JournalMode> { ServerSettings.journal }
}
