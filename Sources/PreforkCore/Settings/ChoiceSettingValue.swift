/// A setting that takes one of a fixed set of words. Declare a `String` enum and conform it:
/// parsing is case-insensitive, and a bad word is reported with the list of good ones.
public protocol ChoiceSettingValue: SettingValue, CaseIterable, RawRepresentable where RawValue == String {}

extension ChoiceSettingValue {
    static var choiceList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public static var typeName: String { "one of \(choiceList)" }

    public static func parse(_ text: String) -> Result<Self, SettingParseFailure> {
        let wanted = text.trimmingWhitespace().lowercased()
        if let match = allCases.first(where: { $0.rawValue.lowercased() == wanted }) { return .success(match) }
        var remedy = "use one of \(choiceList)"
        if let guess = Suggestion.closest(to: wanted, among: allCases.map(\.rawValue)) {
            remedy = "did you mean \(guess)? " + remedy
        }
        return .failure(SettingParseFailure(reason: "\(text.quoted) is not a valid choice", remedy: remedy))
    }

    public var rendered: String { rawValue.quoted }
}

/// How much the server logs, from most to least verbose.
public enum LogLevelName: String, ChoiceSettingValue {
    case debug, info, warning, error, critical
}

/// Whether log entries go to journald natively.
public enum JournalMode: String, ChoiceSettingValue {
    /// When stderr is the journal (started by systemd with `JOURNAL_STREAM`).
    case auto
    /// Always (entries are lost if journald is not running).
    case always
    /// Never: lines go to `error_logfile`.
    case never
}
