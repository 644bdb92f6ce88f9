/// The resolved value of every registered setting, and where each came from.
///
/// Read values with their keys: `configuration[.workers]`. Two configurations are equal when
/// every setting has the same value; where the values came from (and which config file was
/// read) is not compared.
public struct Configuration: Sendable, Equatable {
    private let values: [String: any SettingValue]
    private let sources: [String: SettingSource]
    /// The config file that was read, if any.
    public let configFilePath: String?

    init(values: [String: any SettingValue], sources: [String: SettingSource], configFilePath: String?) {
        self.values = values
        self.sources = sources
        self.configFilePath = configFilePath
    }

    /// The value of a registered setting. Reading a key that is not in the registry this
    /// configuration was resolved from is a programming error.
    public subscript<V: SettingValue>(key: SettingKey<V>) -> V {
        guard let stored = values[key.name] else {
            preconditionFailure("setting '\(key.name)' is not registered; add it to the SettingsRegistry")
        }
        guard let value = stored as? V else {
            preconditionFailure("setting '\(key.name)' is registered as \(type(of: stored)), not \(V.self)")
        }
        return value
    }

    /// Where the setting's value came from; `.defaultValue` for names it does not know.
    public func source(of name: String) -> SettingSource { sources[name] ?? .defaultValue }

    /// The value of the setting named `name`, type-erased, or nil if it is not registered.
    public func value(named name: String) -> (any SettingValue)? { values[name] }

    /// Compares every setting's value except `config`: the same settings read from another file are equal.
    public static func == (lhs: Configuration, rhs: Configuration) -> Bool {
        guard Set(lhs.values.keys) == Set(rhs.values.keys) else { return false }
        return lhs.values.allSatisfy { name, value in
            name == SettingKey<String?>.config.name || settingValuesEqual(value, rhs.values[name]!)
        }
    }

    /// `print-config`: every setting in config-file syntax, grouped by section, each with a
    /// trailing comment naming its source. The output is itself a valid config file. Secret
    /// settings are written as comments unless `revealSecrets` is true.
    public func renderConfigFile(registry: SettingsRegistry, revealSecrets: Bool = false) -> String {
        var lines = ["# Effective configuration: every setting, with where its value came from."]
        lines.append("# Precedence: command line > environment > config file > default.")
        lines.append(configFilePath.map { "# Config file read: \($0)" } ?? "# No config file was read.")
        for (section, settings) in registry.sections {
            let shown = settings.filter {
                !SettingsRegistry.commandLineOnly.contains($0.name) && values[$0.name] != nil
            }
            guard !shown.isEmpty else { continue }
            lines.append("")
            lines.append("# \(section)")
            for setting in shown {
                let source = self.source(of: setting.name)
                if setting.secret && !revealSecrets && source != .defaultValue {
                    lines.append("# \(setting.name) = (secret, not shown)  # \(source)")
                } else {
                    lines.append("\(setting.name) = \(values[setting.name]!.rendered)  # \(source)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SettingsRegistry {
    /// Settings grouped by section, sections in order of first appearance.
    var sections: [(section: String, settings: [AnySetting])] {
        var order: [String] = []
        var grouped: [String: [AnySetting]] = [:]
        for setting in settings {
            if grouped[setting.section] == nil { order.append(setting.section) }
            grouped[setting.section, default: []].append(setting)
        }
        return order.map { ($0, grouped[$0]!) }
    }
}
