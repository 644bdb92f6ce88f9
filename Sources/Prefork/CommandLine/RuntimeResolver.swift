import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// Resolves the settings into a `ServerRuntime`: the registry, the original command-line
/// options, the environment and the config file. It launches nothing; the master asks it again
/// on HUP (the options as given at start, the environment and config file as they are now).
struct RuntimeResolver {
    let application: any PreforkApplication
    let registry: SettingsRegistry
    let arguments: [String]

    var name: String { application.name }
    var version: String { application.version }

    func resolve(validate: Bool = true) throws -> (ServerRuntime, positional: [String]) {
        let (configuration, positional) = try registry.resolve(
            arguments: arguments, environment: RuntimeResolver.environment(), readFile: RuntimeResolver.readFile)
        var runtime = try ServerRuntime.make(configuration)
        runtime.runsJobs = application.runsJobs
        if validate { try application.validate(configuration) }
        return (runtime, positional)
    }

    func reloadRuntime() throws -> ServerRuntime {
        try resolve().0
    }

    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// Why a settings file could not be read: "cannot open: No such file or directory".
    struct ReadFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads a whole file (the config or secrets file); the caller says which file it was.
    static func readFile(_ path: String) throws -> String {
        do {
            return String(decoding: try FileIO.read(path), as: UTF8.self)
        } catch {
            throw ReadFailure(description: "cannot \(error.call): \(error.message)")
        }
    }
}
