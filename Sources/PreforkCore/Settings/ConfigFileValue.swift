/// A value as written in a config file, before the setting's type interprets it.
public enum ConfigFileValue: Sendable, Equatable {
    case string(String)
    /// The number and the literal as written (`0o022`, `1_000`), for types that care about the spelling.
    case integer(Int, literal: String)
    case float(Double, literal: String)
    case boolean(Bool)
    case array([String])

    /// The value in config-file syntax, for messages.
    public var written: String {
        switch self {
        case .string(let text): return text.quoted
        case .integer(_, let literal), .float(_, let literal): return literal
        case .boolean(let flag): return flag ? "true" : "false"
        case .array(let items): return items.rendered
        }
    }
}
