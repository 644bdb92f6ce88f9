import Testing

@testable import PreforkCore

struct FileNotFound: Error, CustomStringConvertible {
    var description: String { "No such file or directory" }
}

/// Resolves against the server registry with an in-memory file system.
func resolve(
    _ arguments: [String] = [], environment: [String: String] = [:], files: [String: String] = [:],
    registry: SettingsRegistry = ServerSettings.registry
) throws(ConfigurationErrors) -> (Configuration, positional: [String]) {
    try registry.resolve(arguments: arguments, environment: environment) { path in
        guard let text = files[path] else { throw FileNotFound() }
        return text
    }
}

/// The error lines a resolution throws, or [] if it succeeds.
func errorLines(
    _ arguments: [String] = [], environment: [String: String] = [:], files: [String: String] = [:],
    registry: SettingsRegistry = ServerSettings.registry
) -> [String] {
    do {
        _ = try resolve(arguments, environment: environment, files: files, registry: registry)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
