/// Every setting the program knows, in declaration order. The server's own settings
/// (``ServerSettings/serverSettings``) and the application's are registered together, and
/// the command line, environment, config file, `print-config` and the reference all come from here.
///
/// The registry always holds the built-in `config` setting (`--config`/`-c`, `PREFORK_CONFIG`),
/// which names the config file.
public struct SettingsRegistry: Sendable {
    public let settings: [AnySetting]
    /// Environment variables starting with this prefix must be declared: an undeclared one is
    /// almost always a typo (`PREFORK_WOKERS`) and is reported as an error.
    public let environmentPrefix: String
    /// Variables with the prefix that are not settings but are used otherwise (for example to
    /// hand sockets to a re-executed binary); they are not reported as unknown.
    public let reservedEnvironment: Set<String>

    /// Duplicate names, flags, short flags or environment variables are a programming error.
    /// Variables the server sets for itself across a USR2 re-exec (`UpgradeHandoff`), never settings.
    public static let internalEnvironment: Set<String> = [UpgradeHandoff.environmentName, "PREFORK_UPGRADE_CHECK"]

    public init(
        _ settings: [AnySetting], environmentPrefix: String = "PREFORK_",
        reservedEnvironment: Set<String> = SettingsRegistry.internalEnvironment
    ) {
        var all = settings
        if !all.contains(where: { $0.name == Self.configKey.name }) { all.insert(Self.configKey.any, at: 0) }
        if !all.contains(where: { $0.name == Self.secretsFileKey.name }) { all.insert(Self.secretsFileKey.any, at: 1) }
        Self.checkUnique(all)
        if let config = all.first(where: { $0.name == Self.configKey.name }) {
            precondition(
                config.valueType == String?.self, "setting 'config' must hold a String? (use SettingKey.config)")
        }
        self.settings = all
        self.environmentPrefix = environmentPrefix
        self.reservedEnvironment = reservedEnvironment
    }

    /// This registry plus more settings, such as an application's own.
    public func appending(_ more: [AnySetting]) -> SettingsRegistry {
        SettingsRegistry(
            settings + more, environmentPrefix: environmentPrefix, reservedEnvironment: reservedEnvironment)
    }

    /// The setting named `name`, if registered.
    public func setting(named name: String) -> AnySetting? { settings.first { $0.name == name } }

    /// The built-in setting that names the config file.
    static let configKey = SettingKey<String?>(
        "config", section: "Config file", short: "c", default: nil,
        doc: "Path of the TOML config file to read; settings from the environment and command line override it.")

    /// Settings that name files to read and so cannot be set inside the config file.
    static let commandLineOnly: Set<String> = [configKey.name, secretsFileKey.name]

    /// The built-in setting that names the secrets file: `KEY=VALUE` lines read as environment
    /// variables, below the real environment.
    static let secretsFileKey = SettingKey<String?>(
        "secrets_file", section: "Config file", env: ["PREFORK_SECRETS_FILE", "SECRETS_FILE"], default: nil,
        doc: "Path of a KEY=VALUE file (systemd EnvironmentFile syntax) read as environment variables, "
            + "below the real environment: for SECRET_KEY, RT_TOKEN and other secrets. Keep it mode 0400.")

    private static func checkUnique(_ settings: [AnySetting]) {
        var seen: Set<String> = []
        func claim(_ what: String, by setting: AnySetting) {
            precondition(seen.insert(what).inserted, "setting '\(setting.name)' reuses \(what), which is already taken")
        }
        for setting in settings {
            claim("name \(setting.name)", by: setting)
            claim("flag \(setting.flag)", by: setting)
            if let negated = setting.negatedFlag { claim("flag \(negated)", by: setting) }
            if let short = setting.short { claim("flag -\(short)", by: setting) }
            for alias in setting.aliases { claim("flag \(alias)", by: setting) }
            for name in setting.env { claim("environment variable \(name)", by: setting) }
        }
    }

    // MARK: Resolving

    /// Resolves with precedence command line > environment > config file > default.
    ///
    /// `arguments` are the option arguments after the subcommand (`["-w", "4", "--bind=127.0.0.1:9000"]`);
    /// `--config PATH` / `-c PATH` (or `PREFORK_CONFIG`) names the config file, read through `readFile`.
    /// Every problem is collected and thrown together; positional arguments are returned.
    public func resolve(
        arguments: [String], environment: [String: String], readFile: (String) throws -> String
    ) throws(ConfigurationErrors) -> (Configuration, positional: [String]) {
        var errors: [ConfigurationError] = []

        func interpret(
            _ setting: AnySetting, from source: SettingSource, _ parsed: Result<any SettingValue, SettingParseFailure>
        ) -> (any SettingValue)? {
            switch parsed {
            case .failure(let failure):
                var reason = setting.secret ? "the value is not a valid \(setting.typeName)" : failure.reason
                if let remedy = setting.hint ?? failure.remedy { reason += " (\(remedy))" }
                errors.append(.badValue(setting: setting.name, source: source, reason: reason))
                return nil
            case .success(let value):
                if let problem = setting.check(value) {
                    errors.append(.badValue(setting: setting.name, source: source, reason: problem))
                    return nil
                }
                return value
            }
        }

        // Command line: later occurrences override, lists accumulate.
        let commandLine = CommandLineParser(arguments: arguments, settings: settings)
        errors += commandLine.errors
        var fromCommandLine: [String: (value: any SettingValue, source: SettingSource)] = [:]
        for occurrence in commandLine.occurrences {
            let setting = occurrence.setting
            let source = SettingSource.commandLine(flag: occurrence.flag)
            guard let value = interpret(setting, from: source, setting.parseText(occurrence.text)) else { continue }
            let combined = fromCommandLine[setting.name].map { setting.accumulate($0.value, value) } ?? value
            fromCommandLine[setting.name] = (combined, source)
        }

        // Secrets file, named by --secrets-file or its variables: a layer below the environment.
        let secrets = readSecretsFile(
            named: fromCommandLine[Self.secretsFileKey.name]?.value, environment: environment, readFile: readFile)
        errors += secrets.errors
        var layered = environment
        var secretSources: [String: SettingSource] = [:]
        for entry in secrets.entries where environment[entry.name] == nil {
            layered[entry.name] = entry.value
            secretSources[entry.name] = .secretsFile(path: secrets.path ?? "", line: entry.line, name: entry.name)
        }

        // Environment: the first declared variable that is present wins.
        var fromEnvironment: [String: (value: any SettingValue, source: SettingSource)] = [:]
        for setting in settings {
            guard let name = setting.env.first(where: { layered[$0] != nil }) else { continue }
            let source = secretSources[name] ?? SettingSource.environment(name: name)
            if let value = interpret(setting, from: source, setting.parseText(layered[name]!)) {
                fromEnvironment[setting.name] = (value, source)
            }
        }
        errors += unknownEnvironmentVariables(in: layered)

        // Config file, named by --config or PREFORK_CONFIG.
        let file = readNamedConfigFile(
            chosen: fromCommandLine[Self.configKey.name] ?? fromEnvironment[Self.configKey.name], readFile: readFile,
            interpret: interpret)
        let configPath = file.path
        let fromFile = file.values
        errors += file.errors

        if !errors.isEmpty { throw ConfigurationErrors(errors) }

        let configuration = combine(
            layers: [fromCommandLine, fromEnvironment, fromFile], environment: layered, configFilePath: configPath)
        return (configuration, positional: commandLine.positional)
    }

    /// The configuration from the layers, highest precedence first; defaults fill the rest.
    private func combine(
        layers: [[String: (value: any SettingValue, source: SettingSource)]], environment: [String: String],
        configFilePath: String?
    ) -> Configuration {
        var values: [String: any SettingValue] = [:]
        var sources: [String: SettingSource] = [:]
        for setting in settings {
            if let chosen = layers.lazy.compactMap({ $0[setting.name] }).first {
                values[setting.name] = chosen.value
                sources[setting.name] = chosen.source
            } else {
                values[setting.name] = setting.defaultIn(environment)
                sources[setting.name] = setting.defaultSource(environment) ?? .defaultValue
            }
        }
        return Configuration(values: values, sources: sources, configFilePath: configFilePath)
    }

    /// Reads the config file the command line or environment named (`chosen`), if any.
    private func readNamedConfigFile(
        chosen: (value: any SettingValue, source: SettingSource)?, readFile: (String) throws -> String,
        interpret: (AnySetting, SettingSource, Result<any SettingValue, SettingParseFailure>) -> (any SettingValue)?
    ) -> (
        path: String?, values: [String: (value: any SettingValue, source: SettingSource)], errors: [ConfigurationError]
    ) {
        guard let chosen, case let path?? = chosen.value as? String? else { return (nil, [:], []) }
        let configSetting = setting(named: Self.configKey.name)!
        let flags = ([configSetting.flag] + configSetting.env).joined(separator: " / ")
        do {
            let text = try readFile(path)
            let file = readConfigFile(text, path: path, interpret: interpret)
            return (path, file.values, file.errors)
        } catch {
            return (path, [:], [.file(path, line: nil, "\(error) (check \(flags))")])
        }
    }

    private func readConfigFile(
        _ text: String, path: String,
        interpret: (AnySetting, SettingSource, Result<any SettingValue, SettingParseFailure>) -> (any SettingValue)?
    ) -> (values: [String: (value: any SettingValue, source: SettingSource)], errors: [ConfigurationError]) {
        var errors: [ConfigurationError] = []
        let entries: [ConfigFileParser.Entry]
        switch ConfigFileParser.parse(text) {
        case .success(let parsed): entries = parsed
        case .failure(let syntax):
            return ([:], [.file(path, line: syntax.line, syntax.reason)])
        }
        let configSetting = setting(named: Self.configKey.name)!
        let keys = settings.map(\.name).filter { $0 != configSetting.name }
        var values: [String: (value: any SettingValue, source: SettingSource)] = [:]
        var firstLine: [String: Int] = [:]
        for entry in entries {
            if let earlier = firstLine[entry.key] {
                errors.append(
                    .file(path, line: entry.line, "'\(entry.key)' is already set on line \(earlier) (keep one of them)")
                )
                continue
            }
            firstLine[entry.key] = entry.line
            if Self.commandLineOnly.contains(entry.key) {
                let named = setting(named: entry.key)!
                let flags = ([named.flag] + named.env).joined(separator: " or ")
                errors.append(
                    .file(path, line: entry.line, "'\(entry.key)' cannot be set inside a config file (use \(flags))"))
                continue
            }
            guard let setting = setting(named: entry.key) else {
                var problem = "unknown setting '\(entry.key)'"
                if let guess = Suggestion.closest(to: entry.key, among: keys) {
                    problem += " (did you mean '\(guess)'?)"
                } else {
                    problem += " (check the spelling against the settings reference)"
                }
                errors.append(.file(path, line: entry.line, problem))
                continue
            }
            let source = SettingSource.file(path: path, line: entry.line)
            if let value = interpret(setting, source, setting.parseFile(entry.value)) {
                values[setting.name] = (value, source)
            }
        }
        return (values, errors)
    }

    /// Reads the secrets file named on the command line or in the environment, if any.
    private func readSecretsFile(
        named commandLineValue: (any SettingValue)?, environment: [String: String], readFile: (String) throws -> String
    ) -> (path: String?, entries: [EnvironmentFileParser.Entry], errors: [ConfigurationError]) {
        let key = Self.secretsFileKey
        var path: String?
        if case let chosen?? = commandLineValue as? String? {
            path = chosen
        } else if let name = key.env.first(where: { environment[$0] != nil }), !environment[name]!.isEmpty {
            path = environment[name]
        }
        guard let path else { return (nil, [], []) }
        let flags = ([key.flag] + key.env).joined(separator: " / ")
        let text: String
        do {
            text = try readFile(path)
        } catch {
            return (
                path, [], [ConfigurationError("secrets file \(path): \(error) (check \(flags))", setting: key.name)]
            )
        }
        switch EnvironmentFileParser.parse(text) {
        case .success(let entries): return (path, entries, [])
        case .failure(let syntax):
            return (
                path, [],
                [ConfigurationError("secrets file \(path) line \(syntax.line): \(syntax.reason)", setting: key.name)]
            )
        }
    }

    private func unknownEnvironmentVariables(in environment: [String: String]) -> [ConfigurationError] {
        guard !environmentPrefix.isEmpty else { return [] }
        let declared = settings.flatMap(\.env)
        let known = Set(declared).union(reservedEnvironment)
        return environment.keys.sorted().filter { $0.hasPrefix(environmentPrefix) && !known.contains($0) }.map { name in
            var problem = "unknown variable \(name)"
            let candidates = declared.filter { $0.hasPrefix(environmentPrefix) }
            if let guess = Suggestion.closest(to: name, among: candidates) {
                problem += " (did you mean \(guess)?)"
            } else {
                problem += " (unset it, or check the spelling against the settings reference)"
            }
            return .environment(problem)
        }
    }
}

extension SettingKey where Value == String? {
    /// Path of the config file (`--config`, `-c`, `PREFORK_CONFIG`); nil when none was given.
    public static var config: SettingKey<String?> { SettingsRegistry.configKey }
    /// Path of the secrets file (`--secrets-file`, `SECRETS_FILE`); nil when none was given.
    public static var secretsFile: SettingKey<String?> { SettingsRegistry.secretsFileKey }
}
