/// One setting, declared once: its config-file key, section, command-line flag, environment
/// variables, default, validator and one-line doc. The command line, the config file,
/// `print-config`, `check-config` and the settings reference are all derived from these.
///
/// Declare keys as `static let`s in an enum and expose them on `SettingKey` so that reads look
/// like `configuration[.workers]`.
public struct SettingKey<Value: SettingValue>: Sendable {
    /// Config-file key, snake_case: `max_requests`.
    public let name: String
    /// Heading the setting is listed under in the reference and in `print-config`.
    public let section: String
    /// Long command-line flag: `--max-requests`.
    public let flag: String
    /// Optional one-letter flag: `-w`.
    public let short: Character?
    /// Other long flags accepted for it, such as Gunicorn's spelling (`--keep-alive` for
    /// `--keepalive`); the reference lists them, messages and `print-config` use `flag`.
    public let aliases: [String]
    /// Environment variables, first match wins: `["PREFORK_WORKERS", "WEB_CONCURRENCY"]`.
    public let env: [String]
    /// The value when nothing sets it (see also `defaultFromEnvironment`).
    public let defaultValue: Value
    /// One line: what the setting does and what an operator sees.
    public let doc: String
    /// What to write instead, shown after a value that does not parse: "use a whole number from 1 to 1024".
    public let hint: String?
    /// `print-config` hides the value and error messages never echo it.
    public let secret: Bool
    /// Returns why a parsed value is unacceptable, including what to do, or nil when it is fine.
    public let validate: (@Sendable (Value) -> String?)?
    /// A default derived from the environment (such as `PORT`), used when it returns non-nil;
    /// any source that sets the setting explicitly still wins.
    public let defaultFromEnvironment: (@Sendable ([String: String]) -> Value?)?
    /// The variables `defaultFromEnvironment` reads, so `print-config` can name them as the source.
    public let defaultEnvironment: [String]

    public init(
        _ name: String, section: String, flag: String? = nil, short: Character? = nil, aliases: [String] = [],
        env: [String]? = nil, default: Value, doc: String, hint: String? = nil, secret: Bool = false,
        validate: (@Sendable (Value) -> String?)? = nil,
        defaultFromEnvironment: (@Sendable ([String: String]) -> Value?)? = nil,
        defaultEnvironment: [String] = []
    ) {
        precondition(
            !name.isEmpty
                && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" },
            "setting name '\(name)' must be snake_case: lowercase letters, digits and _")
        let flag = flag ?? "--" + name.replacingAll("_", with: "-")
        precondition(flag.hasPrefix("--") && flag.count > 2, "flag '\(flag)' for setting '\(name)' must start with --")
        self.name = name
        self.section = section
        self.flag = flag
        self.short = short
        precondition(
            aliases.allSatisfy { $0.hasPrefix("--") && $0.count > 2 }, "aliases of '\(name)' must start with --")
        self.aliases = aliases
        self.env = env ?? ["PREFORK_" + name.uppercased()]
        self.defaultValue = `default`
        self.doc = doc
        self.hint = hint
        self.secret = secret
        self.validate = validate
        self.defaultFromEnvironment = defaultFromEnvironment
        self.defaultEnvironment = defaultEnvironment
    }

    /// The default in effect for this environment: `defaultFromEnvironment`'s answer, else `defaultValue`.
    public func defaultValue(environment: [String: String]) -> Value {
        defaultFromEnvironment?(environment) ?? defaultValue
    }

    /// The type-erased form the registry holds.
    public var any: AnySetting { AnySetting(self) }
}

/// A ``SettingKey`` with its value type erased, as the ``SettingsRegistry`` holds it.
public struct AnySetting: Sendable {
    public let name: String
    public let section: String
    public let flag: String
    public let short: Character?
    public let aliases: [String]
    public let env: [String]
    public let typeName: String
    /// The static default in config-file syntax (ignoring `defaultFromEnvironment`).
    public let defaultRendered: String
    public let doc: String
    public let hint: String?
    public let secret: Bool
    /// On/off setting: `--flag` and `--no-flag`, no value.
    public let isSwitch: Bool
    /// `--no-…` form of the flag, for switches.
    public var negatedFlag: String? { isSwitch ? "--no-" + flag.dropFirst(2) : nil }

    let valueType: Any.Type
    let parseText: @Sendable (String) -> Result<any SettingValue, SettingParseFailure>
    let parseFile: @Sendable (ConfigFileValue) -> Result<any SettingValue, SettingParseFailure>
    let check: @Sendable (any SettingValue) -> String?
    let accumulate: @Sendable (any SettingValue, any SettingValue) -> any SettingValue
    let defaultIn: @Sendable ([String: String]) -> any SettingValue
    /// Where an environment-derived default came from, when it was used (`PORT`), else nil.
    let defaultSource: @Sendable ([String: String]) -> SettingSource?

    init<Value: SettingValue>(_ key: SettingKey<Value>) {
        name = key.name
        section = key.section
        flag = key.flag
        short = key.short
        aliases = key.aliases
        env = key.env
        typeName = Value.typeName
        defaultRendered = key.defaultValue.rendered
        doc = key.doc
        hint = key.hint
        secret = key.secret
        isSwitch = Value.isCommandLineSwitch
        valueType = Value.self
        parseText = { text in Value.parse(text).map { $0 } }
        parseFile = { value in Value.parse(fileValue: value).map { $0 } }
        let validate = key.validate
        check = { value in validate?(value as! Value) }
        accumulate = { earlier, later in Value.accumulating(earlier as! Value, later as! Value) }
        defaultIn = { environment in key.defaultValue(environment: environment) }
        defaultSource = { environment in
            guard key.defaultFromEnvironment?(environment) != nil,
                let name = key.defaultEnvironment.first(where: { environment[$0] != nil })
            else { return nil }
            return .environment(name: name)
        }
    }
}

/// Two setting values are equal when they have the same type and compare equal.
func settingValuesEqual(_ lhs: any SettingValue, _ rhs: any SettingValue) -> Bool {
    func equals<V: SettingValue>(_ value: V) -> Bool { (rhs as? V) == value }
    return equals(lhs)
}
