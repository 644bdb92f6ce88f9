/// A type a setting can hold: parsed from command-line, environment and config-file text, and
/// rendered back in config-file syntax for `print-config` and the settings reference.
///
/// Conformances ship for `Int`, `Bool`, `String`, `Double`, `[String]`, `Optional` of any of
/// these, ``Seconds``, ``OctalMode`` and any ``ChoiceSettingValue`` enum (such as ``LogLevelName``).
public protocol SettingValue: Sendable, Equatable {
    /// How the settings reference names the type: "integer", "boolean", "seconds", ...
    static var typeName: String { get }

    /// Parses command-line or environment text.
    static func parse(_ text: String) -> Result<Self, SettingParseFailure>

    /// Parses a typed config-file value. The default hands strings, numbers and booleans to
    /// ``parse(_:)`` and refuses lists.
    static func parse(fileValue: ConfigFileValue) -> Result<Self, SettingParseFailure>

    /// True for on/off settings: `--flag` alone means true and `--no-flag` means false.
    static var isCommandLineSwitch: Bool { get }

    /// How repeated command-line flags combine. The default keeps the later value; lists append.
    static func accumulating(_ earlier: Self, _ later: Self) -> Self

    /// The value in config-file syntax: `4`, `true`, `"text"`, `["a", "b"]`, `0o022`.
    var rendered: String { get }
}

extension SettingValue {
    public static func parse(fileValue: ConfigFileValue) -> Result<Self, SettingParseFailure> {
        switch fileValue {
        case .string(let text): return parse(text)
        case .integer(let number, _): return parse(String(number))
        case .float(_, let literal): return parse(literal.replacingAll("_", with: ""))
        case .boolean(let flag): return parse(flag ? "true" : "false")
        case .array:
            return .failure(
                SettingParseFailure(
                    reason: "\(fileValue.written) is a list, but \(typeName) is a single value",
                    remedy: "write one value, without [ ]"))
        }
    }

    public static var isCommandLineSwitch: Bool { false }

    public static func accumulating(_ earlier: Self, _ later: Self) -> Self { later }
}

/// Why a piece of text is not a valid value. `reason` says what is wrong ("\"abc\" is not a whole
/// number"); `remedy` says what to write instead ("use a whole number").
public struct SettingParseFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var remedy: String?

    public init(reason: String, remedy: String? = nil) {
        self.reason = reason
        self.remedy = remedy
    }

    public var description: String {
        remedy.map { "\(reason) (\($0))" } ?? reason
    }
}

// MARK: - Standard library conformances

extension Int: SettingValue {
    public static var typeName: String { "integer" }

    public static func parse(_ text: String) -> Result<Int, SettingParseFailure> {
        if let number = Int(text.trimmingWhitespace()) { return .success(number) }
        return .failure(
            SettingParseFailure(reason: "\(text.quoted) is not a whole number", remedy: "use a whole number"))
    }

    public var rendered: String { String(self) }
}

extension Double: SettingValue {
    public static var typeName: String { "number" }

    public static func parse(_ text: String) -> Result<Double, SettingParseFailure> {
        if let number = Double(text.trimmingWhitespace()), number.isFinite { return .success(number) }
        return .failure(SettingParseFailure(reason: "\(text.quoted) is not a number", remedy: "use a number, like 1.5"))
    }

    public var rendered: String { description }
}

extension Bool: SettingValue {
    public static var typeName: String { "boolean" }

    public static func parse(_ text: String) -> Result<Bool, SettingParseFailure> {
        switch text.trimmingWhitespace().lowercased() {
        case "true", "yes", "on", "1": return .success(true)
        case "false", "no", "off", "0": return .success(false)
        default:
            return .failure(
                SettingParseFailure(
                    reason: "\(text.quoted) is not true or false",
                    remedy: "use true or false; yes/no, on/off and 1/0 also work"))
        }
    }

    public static var isCommandLineSwitch: Bool { true }

    public var rendered: String { self ? "true" : "false" }
}

extension String: SettingValue {
    public static var typeName: String { "string" }

    public static func parse(_ text: String) -> Result<String, SettingParseFailure> { .success(text) }

    public static func parse(fileValue: ConfigFileValue) -> Result<String, SettingParseFailure> {
        if case .string(let text) = fileValue { return .success(text) }
        return .failure(
            SettingParseFailure(
                reason: "\(fileValue.written) is not a string",
                remedy: "put text in quotes, like \(fileValue.written.quoted)"))
    }

    public var rendered: String { quoted }
}

/// A list of strings: comma-separated on the command line and in the environment (a repeated
/// flag adds to the list); in a config file a list `["a", "b"]` or a single string.
extension Array: SettingValue where Element == String {
    public static var typeName: String { "list of strings" }

    public static func parse(_ text: String) -> Result<[String], SettingParseFailure> {
        .success(text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty })
    }

    public static func parse(fileValue: ConfigFileValue) -> Result<[String], SettingParseFailure> {
        switch fileValue {
        case .array(let items): return .success(items)
        case .string(let text): return .success([text])
        default:
            return .failure(
                SettingParseFailure(
                    reason: "\(fileValue.written) is not a list of strings",
                    remedy: "write a list of quoted strings, like [\"a\", \"b\"]"))
        }
    }

    public static func accumulating(_ earlier: [String], _ later: [String]) -> [String] { earlier + later }

    public var rendered: String { "[" + map(\.quoted).joined(separator: ", ") + "]" }
}

/// An optional value: empty text means "not set" (`nil`), rendered as `""`.
extension Optional: SettingValue where Wrapped: SettingValue {
    public static var typeName: String { "\(Wrapped.typeName), optional" }

    public static func parse(_ text: String) -> Result<Wrapped?, SettingParseFailure> {
        if text.trimmingWhitespace().isEmpty { return .success(nil) }
        return Wrapped.parse(text).map { .some($0) }
    }

    public static func parse(fileValue: ConfigFileValue) -> Result<Wrapped?, SettingParseFailure> {
        if case .string(let text) = fileValue, text.trimmingWhitespace().isEmpty { return .success(nil) }
        return Wrapped.parse(fileValue: fileValue).map { .some($0) }
    }

    public static var isCommandLineSwitch: Bool { Wrapped.isCommandLineSwitch }

    public var rendered: String {
        switch self {
        case .none: return "\"\""
        case .some(let value): return value.rendered
        }
    }
}

// MARK: - Text helpers shared by the settings code

extension String {
    /// The string as a TOML basic string: double quotes, with `"`, `\` and control characters escaped.
    var quoted: String {
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
