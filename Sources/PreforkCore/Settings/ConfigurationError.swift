/// One problem with the configuration, as a single line an operator can act on: what is wrong,
/// where (setting and source), and what to do.
///
///     setting 'workers' from environment PREFORK_WORKERS: "abc" is not a whole number (use a whole number from 1 to 1024)
///     config file /etc/rtu.toml line 7: unknown setting 'worker' (did you mean 'workers'?)
///     command line: unknown option --wokers (did you mean --workers?)
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting concerned, when there is one.
    public var setting: String?
    /// The whole line.
    public var description: String

    public init(_ description: String, setting: String? = nil) {
        self.description = description
        self.setting = setting
    }

    /// A value for `setting` from `source` that does not parse or fails validation.
    public static func badValue(setting: String, source: SettingSource, reason: String) -> ConfigurationError {
        ConfigurationError("setting '\(setting)' from \(source): \(reason)", setting: setting)
    }

    static func commandLine(_ problem: String) -> ConfigurationError {
        ConfigurationError("command line: \(problem)")
    }

    static func file(_ path: String, line: Int?, _ problem: String, setting: String? = nil) -> ConfigurationError {
        ConfigurationError("config file \(path)\(line.map { " line \($0)" } ?? ""): \(problem)", setting: setting)
    }

    static func environment(_ problem: String) -> ConfigurationError {
        ConfigurationError("environment: \(problem)")
    }
}

/// Every problem found while resolving a configuration, so an operator fixes them all in one go.
public struct ConfigurationErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ConfigurationError]

    public init(_ errors: [ConfigurationError]) { self.errors = errors }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
