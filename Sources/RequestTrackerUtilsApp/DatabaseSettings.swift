import Database
import PostgreSQL
import PreforkCore

/// `database_url`: empty for the embedded SQLite file in `working_dir`, or a `postgresql://`
/// URI (read by libpq's own parser). Rendered, in `print-config` and messages, without its
/// password.
struct DatabaseURL: SettingValue {
    let text: String
    /// The PostgreSQL URI, or nil for SQLite.
    let postgresql: PostgreSQLURI?

    static let sqlite = DatabaseURL(text: "", postgresql: nil)

    static var typeName: String { "database URL" }

    static func parse(_ text: String) -> Result<DatabaseURL, SettingParseFailure> {
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { return .success(.sqlite) }
        let remedy =
            "write postgresql://USER@HOST:PORT/DATABASE (or postgresql:///DATABASE?host=/run/postgresql), "
            + "or leave it empty for SQLite in working_dir"
        guard trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") else {
            let scheme = trimmed.firstRange(of: "://").map { String(trimmed[..<$0.lowerBound]) + "://" }
            return .failure(
                SettingParseFailure(
                    reason: scheme.map { "\($0) is not a database this release speaks" } ?? "it is not a URL",
                    remedy: remedy))
        }
        switch PostgreSQLURI.parse(trimmed) {
        case .success(let uri): return .success(DatabaseURL(text: trimmed, postgresql: uri))
        case .failure(let error): return .failure(SettingParseFailure(reason: error.message, remedy: remedy))
        }
    }

    var rendered: String { (postgresql?.redacted ?? "").rendered }

    static func == (lhs: DatabaseURL, rhs: DatabaseURL) -> Bool { lhs.text == rhs.text }
}

/// The settings that choose and reach the database (section "Database").
enum DatabaseSettings {
    static let url = SettingKey<DatabaseURL>(
        "database_url", section: "Database", env: ["DATABASE_URL"], default: .sqlite,
        doc: "Empty for the SQLite file database.sqlite in working_dir; postgresql://USER@HOST:PORT/DATABASE "
            + "(or postgresql:///DATABASE?host=/run/postgresql for the local socket) for PostgreSQL. The password "
            + "goes in database_password, PGPASSWORD or ~/.pgpass, never in a log or print-config.")

    static let password = SettingKey<String>(
        "database_password", section: "Database", env: ["DATABASE_PASSWORD", "PGPASSWORD"], default: "",
        doc: "Password for the PostgreSQL user, when the server asks for one; put it in the secrets file.",
        secret: true)

    static let timeout = SettingKey<Seconds>(
        "database_timeout", section: "Database", env: ["DATABASE_TIMEOUT"], default: 10,
        doc: "Seconds a PostgreSQL connect or statement may take before the page says the database is "
            + "unavailable; must be below `timeout`, so a slow database never gets a worker killed. Unset: 10, "
            + "or 80% of `timeout` when that is less.",
        validate: { $0.value > 0 ? nil : "must be more than 0 seconds" })

    static let all: [AnySetting] = [url.any, password.any, timeout.any]

    /// The timeout in effect: the setting when given, else 10 s or 80% of the worker
    /// `timeout` when that is less (at least 1 s).
    static func effectiveTimeout(_ configuration: Configuration) -> Double {
        let workerTimeout = configuration[.timeout].value
        guard configuration.source(of: timeout.name) == .defaultValue, workerTimeout > 0 else {
            return configuration[timeout].value
        }
        return min(configuration[timeout].value, max(1, workerTimeout * 0.8))
    }

    /// The problem when a given `database_timeout` is not below the worker `timeout`, in one line.
    static func timeoutProblem(_ configuration: Configuration) -> ConfigurationError? {
        guard configuration[url].postgresql != nil, configuration.source(of: timeout.name) != .defaultValue else {
            return nil
        }
        return AppSettings.belowWorkerTimeout(configuration, timeout, what: "database")
    }
}
