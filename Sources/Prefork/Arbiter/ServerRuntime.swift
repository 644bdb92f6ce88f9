import Logging
import PreforkCore
import Systemd

/// The resolved configuration, with the server settings in the forms the master and workers
/// use (parsed addresses, nanoseconds). Derived from `Configuration`; declares no setting.
struct ServerRuntime: SupervisedConfiguration {
    let configuration: Configuration
    let binds: [BindAddress]
    let proxyTrust: ProxyTrust
    let accessLogFormat: AccessLogFormat?
    /// Where workers serve /metrics (`metrics_bind`), if anywhere.
    var metricsBind: BindAddress?
    /// Whether the application runs jobs (without, `job_workers` starts none).
    var runsJobs = false

    /// Validates what the registry's per-value validators cannot (parsing bind addresses,
    /// proxy networks and the access log format, the user and group) and returns the runtime.
    static func make(_ configuration: Configuration) throws(ConfigurationErrors) -> ServerRuntime {
        var errors: [ConfigurationError] = []
        var binds: [BindAddress] = []
        for entry in configuration[.bind] {
            switch BindAddress.parse(entry) {
            case .success(let address): binds.append(address)
            case .failure(let error):
                errors.append(
                    ConfigurationError.badValue(
                        setting: "bind", source: configuration.source(of: "bind"), reason: error.reason))
            }
        }
        var metricsBind: BindAddress?
        if let entry = configuration[.metricsBind] {
            switch BindAddress.parse(entry) {
            case .success(let address): metricsBind = address
            case .failure(let error):
                errors.append(
                    ConfigurationError.badValue(
                        setting: "metrics_bind", source: configuration.source(of: "metrics_bind"),
                        reason: error.reason))
            }
        }
        var trust = ProxyTrust.loopback
        switch ProxyTrust.parse(configuration[.forwardedAllowIPs]) {
        case .success(let parsed): trust = parsed
        case .failure(let error):
            errors.append(
                ConfigurationError.badValue(
                    setting: "forwarded_allow_ips", source: configuration.source(of: "forwarded_allow_ips"),
                    reason: error.reason))
        }
        var format: AccessLogFormat?
        if configuration[.accessLogfile] != nil {
            do {
                format = try AccessLogFormat(configuration[.accessLogFormat])
            } catch {
                errors.append(
                    ConfigurationError.badValue(
                        setting: "access_log_format", source: configuration.source(of: "access_log_format"),
                        reason: error.reason))
            }
        }
        for (name, value) in [("user", configuration[.user]), ("group", configuration[.group])] {
            guard let value, !value.isEmpty else { continue }
            if name == "user" ? Privileges.lookUpUser(value) == nil : Privileges.lookUpGroup(value) == nil {
                errors.append(
                    ConfigurationError.badValue(
                        setting: name, source: configuration.source(of: name),
                        reason: "no \(name) named '\(value)' on this system (create it or choose another)"))
            }
        }
        if !errors.isEmpty { throw ConfigurationErrors(errors) }
        var runtime = ServerRuntime(
            configuration: configuration, binds: binds, proxyTrust: trust, accessLogFormat: format)
        runtime.metricsBind = metricsBind
        return runtime
    }

    var workers: Int { configuration[.workers] }
    var jobWorkers: Int { runsJobs ? configuration[.jobWorkers] : 0 }
    var pidFile: String? { configuration[.pid] }
    var gracefulTimeoutNanos: Int64 { configuration[.gracefulTimeout].value.nanoseconds }

    var timeouts: SupervisionTimeouts {
        SupervisionTimeouts(
            request: configuration[.timeout].value.nanoseconds,
            boot: configuration[.bootTimeout].value.nanoseconds,
            graceful: configuration[.gracefulTimeout].value.nanoseconds,
            job: configuration[.jobTimeout].value.nanoseconds)
    }

    var listenerOptions: Listener.Options {
        Listener.Options(
            backlog: Int32(configuration[.backlog]), reusePort: configuration[.reusePort],
            unixMode: configuration[.unixSocketMode].value)
    }

    var logLevel: Logger.Level {
        switch configuration[.logLevel] {
        case .debug: return .debug
        case .info: return .info
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }

    /// Whether error-log entries go to journald (`journal`: always, or auto when the error log
    /// is stderr and stderr is the journal).
    /// Whether error-log entries go to journald: `auto` when stderr is the journal (under
    /// systemd), whether or not an error log file is also written.
    func usesJournal() -> Bool {
        switch configuration[.journal] {
        case .always: return true
        case .never: return false
        case .auto: return ServiceEnvironment.stderrIsJournal(environment: RuntimeResolver.environment())
        }
    }

    func applyLogging(to logger: inout Logger) {
        logger.logLevel = logLevel
    }

    /// An idle job worker looks for a job twice a second, and beats at least 4 times per `timeout`.
    var jobPollMillis: Int32 { min(500, heartbeatMillis) }

    /// An idle worker wakes at least 4 times per `timeout` (at most once a second).
    var heartbeatMillis: Int32 {
        let timeout = configuration[.timeout].value.nanoseconds
        return timeout == 0 ? 1000 : Int32(clamping: min(1000, max(50, timeout / 4_000_000)))
    }

    /// The options of a worker of this configuration; max_requests jitter is drawn per worker.
    func workerOptions(masterPID: Int32, serverName: String) -> WorkerOptions {
        var maxRequests = configuration[.maxRequests]
        let jitter = configuration[.maxRequestsJitter]
        if maxRequests > 0 && jitter > 0 { maxRequests += Int.random(in: 0...jitter) }
        return WorkerOptions(
            limits: HTTPLimits(
                requestLine: configuration[.limitRequestLine], fieldCount: configuration[.limitRequestFields],
                fieldSize: configuration[.limitRequestFieldSize], body: configuration[.limitRequestBody]),
            keepaliveNanos: configuration[.keepalive].value.nanoseconds,
            headerTimeoutNanos: configuration[.headerTimeout].value.nanoseconds,
            gracefulTimeoutNanos: configuration[.gracefulTimeout].value.nanoseconds,
            maxConnections: configuration[.maxConnections],
            maxRequests: maxRequests,
            maxMemoryKiB: configuration[.maxWorkerMemory] * 1024,
            proxyTrust: proxyTrust,
            serverName: serverName,
            masterPID: masterPID,
            heartbeatMillis: heartbeatMillis)
    }
}
