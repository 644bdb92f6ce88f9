import Logging
import PreforkCore

/// What an application gives the server. `Prefork.main(application:)` turns it into a whole
/// executable: `serve`, `check-config`, `print-config`, `--version`, plus the application's
/// own commands.
public protocol PreforkApplication: Sendable {
    /// The name in `--version`, the `Server:` header, logs and the process title.
    var name: String { get }
    var version: String { get }
    /// The application's own settings, declared with the same registry as the server's.
    var settings: [AnySetting] { get }
    /// The application's own subcommands (e.g. `migrate`, `collectstatic`).
    var commands: [ApplicationCommand] { get }
    /// Checks settings beyond their per-value validators (run by `serve`, `check-config` and
    /// on reload, in the master, before anything binds; not by `print-config` or the
    /// application's own commands). Throw `ConfigurationErrors`.
    func validate(_ configuration: Configuration) throws
    /// Called in each worker after fork: open databases, build the router. A thrown error is a
    /// boot failure: the worker exits with code 3 and the master stops.
    func makeHandler(_ configuration: Configuration, logger: Logger) throws -> Handler
    /// Called once in the master, after it binds and before it forks the first workers (not
    /// again on reload): warm what every worker would otherwise set up itself (library
    /// initialisation, tables), so the pages it touches and the heap it builds are shared
    /// copy-on-write by all workers instead of copied into each (Gunicorn's `preload_app`).
    /// Workers still build their own state in `makeHandler`; this only warms, so it must not
    /// depend on settings a reload can change. The master must stay single-threaded: nothing
    /// here may start a thread (no Dispatch, Foundation run loops, Swift concurrency) or open
    /// a database or a connection. Debug builds assert one thread before every fork.
    func preload(_ configuration: Configuration, logger: Logger)
    /// Whether the application has jobs for job workers (`job_workers` of them are started).
    var runsJobs: Bool { get }
    /// Called in each job worker after fork, like `makeHandler`; a thrown error is a boot failure.
    func makeJobRunner(_ configuration: Configuration, logger: Logger) throws -> any JobRunner
}

extension PreforkApplication {
    public var settings: [AnySetting] { [] }
    public var commands: [ApplicationCommand] { [] }
    public func validate(_ configuration: Configuration) throws {}
    public func preload(_ configuration: Configuration, logger: Logger) {}
    public var runsJobs: Bool { false }
    public func makeJobRunner(_ configuration: Configuration, logger: Logger) throws -> any JobRunner {
        throw NoJobs()
    }
}

/// `makeJobRunner` of an application without jobs.
struct NoJobs: Error, CustomStringConvertible {
    var description: String { "this application has no jobs" }
}

/// An application subcommand: runs in the foreground with the resolved configuration and
/// returns the process exit code.
public struct ApplicationCommand: Sendable {
    public var name: String
    public var summary: String
    /// The command's own options that take a value (`--role`): given to `run` with the
    /// positional arguments, in order, as `--role VALUE`, instead of being read as settings.
    public var options: [String]
    /// The command's own options without a value (`--force`): given to `run` as they are.
    public var flags: [String]
    public var run: @Sendable (Configuration, [String], Logger) -> Int32

    public init(
        name: String, summary: String, options: [String] = [], flags: [String] = [],
        run: @escaping @Sendable (Configuration, [String], Logger) -> Int32
    ) {
        self.name = name
        self.summary = summary
        self.options = options
        self.flags = flags
        self.run = run
    }

    /// `arguments` split into the settings' part and the command's own (its options with their
    /// values, `--role tech` or `--role=tech`, each given as two arguments).
    public func separate(_ arguments: [String]) -> (settings: [String], own: [String]) {
        var settings: [String] = []
        var own: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if let option = options.first(where: { argument.hasPrefix($0 + "=") }) {
                own += [option, String(argument.dropFirst(option.count + 1))]
            } else if flags.contains(argument) {
                own.append(argument)
            } else if options.contains(argument) {
                own.append(argument)
                if index + 1 < arguments.count {
                    own.append(arguments[index + 1])
                    index += 1
                }
            } else {
                settings.append(argument)
            }
            index += 1
        }
        return (settings, own)
    }
}
