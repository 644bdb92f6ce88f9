/// Where a setting's value came from. Precedence, highest first: command line, environment,
/// secrets file, config file, default.
public enum SettingSource: Sendable, Equatable, Hashable, CustomStringConvertible {
    case defaultValue
    case file(path: String, line: Int)
    case environment(name: String)
    /// A variable from the secrets file (`--secrets-file`), below the real environment.
    case secretsFile(path: String, line: Int, name: String)
    case commandLine(flag: String)

    public var description: String {
        switch self {
        case .defaultValue: return "default"
        case .file(let path, let line): return "config file \(path) line \(line)"
        case .environment(let name): return "environment \(name)"
        case .secretsFile(let path, let line, let name): return "secrets file \(path) line \(line) (\(name))"
        case .commandLine(let flag): return "command line \(flag)"
        }
    }
}
