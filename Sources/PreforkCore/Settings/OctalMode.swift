/// File permission bits written in octal, as `chmod` and `umask` take them: `0o022`, `022`,
/// `0022` and `22` all mean the same. Rendered as `0o022`, which a config file reads back.
public struct OctalMode: SettingValue, Hashable, ExpressibleByIntegerLiteral {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(integerLiteral value: UInt32) { self.value = value }

    public static var typeName: String { "octal mode" }

    public static func parse(_ text: String) -> Result<OctalMode, SettingParseFailure> {
        let trimmed = text.trimmingWhitespace()
        var digits = Substring(trimmed)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ ("0"..."7").contains($0) }),
            let number = UInt32(digits, radix: 8), number <= 0o7777
        else {
            return .failure(
                SettingParseFailure(
                    reason: "\(text.quoted) is not an octal mode",
                    remedy: "use octal digits 0-7 up to 7777, like 0o022 or 0660"))
        }
        return .success(OctalMode(number))
    }

    /// A TOML integer written `0o…` is octal already; a plain one is read as octal digits, as
    /// `chmod` would, so `umask = 22` means 0o022.
    public static func parse(fileValue: ConfigFileValue) -> Result<OctalMode, SettingParseFailure> {
        switch fileValue {
        case .integer(_, let literal): return parse(literal.replacingAll("_", with: ""))
        case .string(let text): return parse(text)
        default:
            return .failure(
                SettingParseFailure(reason: "\(fileValue.written) is not an octal mode", remedy: "write it like 0o022"))
        }
    }

    public var rendered: String {
        let digits = String(value, radix: 8)
        return "0o" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
