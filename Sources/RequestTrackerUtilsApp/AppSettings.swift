import PreforkCore

/// The application's settings, declared once like the server's: flags, environment (and the
/// secrets file), config file, `print-config` and docs/settings.md all come from here.
enum AppSettings {
    static let workingDir = SettingKey<String>(
        "working_dir", section: "Application", env: ["WORKING_DIR"], default: "var",
        doc: "Directory for the SQLite database, collected static files, uploads and logs; created if missing.")

    static let secretKey = SettingKey<String?>(
        "secret_key", section: "Application", env: ["SECRET_KEY"], default: nil,
        doc: "Key that signs the forms' CSRF tokens; required unless debug is on, at least 50 random characters "
            + "(make one with `request-tracker-utils generate-secret-key`). Put it in the secrets file.",
        secret: true)

    static let debug = SettingKey<Bool>(
        "debug", section: "Application", env: ["DEBUG"], default: false,
        doc: "Development mode: no SECRET_KEY needed (a local one is kept in WORKING_DIR), localhost allowed "
            + "as Host, error details on pages. Never in production.")

    static let allowedHosts = SettingKey<[String]>(
        "allowed_hosts", section: "Application", env: ["ALLOWED_HOSTS"], default: [],
        doc: "Host names this site answers to (comma-separated): exact names, .example.org for it and its "
            + "subdomains, or * for any; other Host headers get 400. Required unless debug is on.",
        validate: HostPatterns.validate)

    static let prefix = SettingKey<String>(
        "prefix", section: "Asset tags", env: ["PREFIX"], default: "W12-",
        doc: "Text before the number in every asset tag: W12- gives W12-0001.",
        validate: { prefix in
            guard (1...16).contains(prefix.utf8.count),
                prefix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { return "must be 1 to 16 printable ASCII characters without spaces (like W12-)" }
            return nil
        })

    static let padding = SettingKey<Int>(
        "padding", section: "Asset tags", env: ["PADDING"], default: 4,
        doc: "Digits in an asset tag's number, zero-padded: 4 gives W12-0001 (numbers past 9999 grow a digit).",
        hint: SettingValidators.rangeHint(1...12), validate: SettingValidators.range(1...12))

    static let sessionIdleTimeout = SettingKey<Seconds>(
        "session_idle_timeout", section: "Application", env: ["SESSION_IDLE_TIMEOUT"], default: 7200,
        doc: "Seconds a signed-in session may go unused before it ends (two hours).",
        validate: atLeastOneSecond)

    static let sessionMaxAge = SettingKey<Seconds>(
        "session_max_age", section: "Application", env: ["SESSION_MAX_AGE"], default: 43_200,
        doc: "Seconds after sign-in a session ends however much it is used (twelve hours: a school day).",
        validate: atLeastOneSecond)

    static let signInFailureLimit = SettingKey<Int>(
        "sign_in_failure_limit", section: "Application", env: ["SIGN_IN_FAILURE_LIMIT"], default: 10,
        doc: "Failed sign-ins of one user name, or from one client address, within `sign_in_failure_window` "
            + "after which further tries are refused until the oldest leaves the window.",
        validate: { $0 >= 1 ? nil : "must be at least 1" })

    static let signInFailureWindow = SettingKey<Seconds>(
        "sign_in_failure_window", section: "Application", env: ["SIGN_IN_FAILURE_WINDOW"], default: 900,
        doc: "Seconds over which failed sign-ins are counted (fifteen minutes); counted in the database, so "
            + "the limit holds across workers and hosts.",
        validate: atLeastOneSecond)

    private static func atLeastOneSecond(_ value: Seconds) -> String? {
        value.value >= 1 ? nil : "must be at least 1 second"
    }

    static let enableTestRoutes = SettingKey<Bool>(
        "enable_test_routes", section: "Debugging", default: false,
        doc: "Turns on POST /echo, GET /sleep, GET /crash, GET /error and GET /test/routes for the server's own "
            + "tests; never in production.")

    static let all: [AnySetting] =
        [
            workingDir.any, secretKey.any, debug.any, allowedHosts.any,
            prefix.any, padding.any,
        ] + LabelSettings.all + [
            sessionIdleTimeout.any, sessionMaxAge.any, signInFailureLimit.any, signInFailureWindow.any,
        ] + DatabaseSettings.all + DirectorySettings.all + RTSettings.all + [enableTestRoutes.any]

    /// The problem when `key`, the timeout of calls to an outside service (RT, the database,
    /// the directory), is not below the worker `timeout`, in one line: a worker waiting on a
    /// slow service that long would be killed mid-call instead of answering with an error page.
    static func belowWorkerTimeout(
        _ configuration: Configuration, _ key: SettingKey<Seconds>, what: String
    ) -> ConfigurationError? {
        let value = configuration[key]
        let workerTimeout = configuration[.timeout]
        guard workerTimeout.value > 0 && value >= workerTimeout else { return nil }
        return ConfigurationError(
            "setting '\(key.name)' from \(configuration.source(of: key.name)) is \(value.rendered)s, not below "
                + "'timeout' (\(workerTimeout.rendered)s, from \(configuration.source(of: "timeout"))): a slow \(what) "
                + "would get workers killed; lower \(key.env.first ?? key.name) or raise timeout",
            setting: key.name)
    }
}
