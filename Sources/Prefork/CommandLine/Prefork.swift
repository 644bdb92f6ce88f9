import CPreforkShims
import Logging
import PreforkCore
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The entry point an application's `main.swift` calls: `Prefork.main(application: MyApp())`.
public enum Prefork {
    /// Exit codes of the command line.
    public enum ExitCode {
        public static let success: Int32 = 0
        /// The server or a command failed at run time (e.g. an address could not be bound).
        public static let failure: Int32 = 1
        /// The command line, environment or config file is invalid; nothing was started.
        public static let configuration: Int32 = 2
    }

    /// Runs the command line and exits the process.
    public static func main(application: some PreforkApplication) -> Never {
        prefork_save_argv(CommandLine.argc, CommandLine.unsafeArgv)
        UpgradeContext.capture()
        let code = run(application: application, arguments: Array(CommandLine.arguments.dropFirst()))
        exit(code)
    }

    /// Runs one command line and returns the exit code.
    public static func run(application: some PreforkApplication, arguments: [String]) -> Int32 {
        let registry = SettingsRegistry(ServerSettings.serverSettings + application.settings)
        let (command, arguments) = Self.command(in: arguments)
        let resolver = RuntimeResolver(application: application, registry: registry, arguments: arguments)
        switch command {
        case "serve": return serve(resolver)
        case "check-config": return checkConfig(resolver)
        case "print-config": return printConfig(resolver)
        case "settings-doc":
            print(registry.markdownReference(title: "Settings"), terminator: "")
            return ExitCode.success
        case "signals-doc":
            return signalsDoc()
        case "version", "--version", "-v":
            print("\(application.name) \(application.version) (prefork \(PreforkCore.version))")
            return ExitCode.success
        case "help", "--help", "-h":
            print(usage(application, registry))
            return ExitCode.success
        default:
            if let custom = application.commands.first(where: { $0.name == command }) {
                let (settings, own) = custom.separate(arguments)
                let resolver = RuntimeResolver(application: application, registry: registry, arguments: settings)
                return runCommand(custom, resolver, own: own)
            }
            printError("unknown command '\(command)' (run '\(application.name) help' for the list)")
            return ExitCode.configuration
        }
    }

    /// The command and the arguments left for it: a first word that is not an option
    /// (`migrate`), `--version`/`--help` first, or Gunicorn's `--check-config` and
    /// `--print-config` flags anywhere among the options; else `serve`.
    static func command(in arguments: [String]) -> (command: String, arguments: [String]) {
        guard let first = arguments.first else { return ("serve", []) }
        if !first.hasPrefix("-") || ["--version", "-v", "--help", "-h"].contains(first) {
            return (first, Array(arguments.dropFirst()))
        }
        for flag in ["--check-config", "--print-config"] where arguments.contains(flag) {
            return (String(flag.dropFirst(2)), arguments.filter { $0 != flag })
        }
        return ("serve", arguments)
    }

    static func serve(_ resolver: RuntimeResolver) -> Int32 {
        guard let (runtime, positional) = resolveOrReport(resolver) else { return ExitCode.configuration }
        if !positional.isEmpty {
            printError("command line: unexpected argument '\(positional[0])' (options start with --)")
            return ExitCode.configuration
        }
        let configuration = runtime.configuration
        umask(mode_t(configuration[.umask].value))
        if let directory = configuration[.chdir], chdir(directory) != 0 {
            printError(
                "setting 'chdir' (\(configuration.source(of: "chdir"))): cannot change to \(directory): \(SystemError("chdir").description)"
            )
            return ExitCode.failure
        }
        guard let logFiles = openLogFiles(configuration) else { return ExitCode.failure }
        let errorLog = logFiles.error
        let level = runtime.logLevel
        if runtime.usesJournal() {
            // Entries go to journald with their fields; an error log file, when one is set (the
            // seeds' $WORKING_DIR/logs/error.log), gets the same lines.
            let name = resolver.name
            let toFile = errorLog.path != nil
            LoggingSystem.bootstrap { label in
                let journal = JournalLogHandler(identifier: name, level: level) { line in
                    var bytes = Array((line + "\n").utf8)
                    bytes.withUnsafeMutableBytes { errorLog.write(UnsafeRawBufferPointer($0)) }
                }
                guard toFile else { return journal }
                return MultiplexLogHandler([journal, ErrorLogHandler(file: errorLog, level: level)])
            }
        } else {
            LoggingSystem.bootstrap { _ in ErrorLogHandler(file: errorLog, level: level) }
        }
        var logger = Logger(label: resolver.name)
        logger.logLevel = level
        if RuntimeResolver.environment()[UpgradeContext.checkVariable] == "1" {
            // USR2's check of this binary: the configuration resolved; the application's preload runs.
            resolver.application.preload(configuration, logger: logger)
            return ExitCode.success
        }
        prefork_set_proctitle("\(resolver.name): master [\(configuration[.procName] ?? resolver.name)]")
        let arbiter: Arbiter
        do {
            arbiter = try Arbiter(runtime: runtime, resolver: resolver, logFiles: logFiles, logger: logger)
        } catch {
            logger.critical("\(error)")
            return ExitCode.failure
        }
        return arbiter.run()
    }

    /// Opens the error and access logs as the master (before workers drop privileges) and gives
    /// them to the workers' user; on failure prints why and returns nil.
    static func openLogFiles(_ configuration: Configuration) -> LogFiles? {
        let files: LogFiles
        do {
            let errorLog = try LogFile(path: configuration[.errorLogfile], standardStream: 2)
            var access: LogFile?
            if let path = configuration[.accessLogfile], path != "journal" {
                do {
                    access = try LogFile(path: path, standardStream: 1)
                } catch {
                    printError("setting 'access_logfile' (\(configuration.source(of: "access_logfile"))): \(error)")
                    return nil
                }
            }
            files = LogFiles(error: errorLog, access: access)
        } catch {
            printError("setting 'error_logfile' (\(configuration.source(of: "error_logfile"))): \(error)")
            return nil
        }
        files.chown(
            uid: configuration[.user].flatMap { Privileges.lookUpUser($0)?.uid },
            gid: configuration[.group].flatMap { Privileges.lookUpGroup($0) }
                ?? configuration[.user].flatMap { Privileges.lookUpUser($0)?.gid })
        return files
    }

    /// Reads a markdown document on stdin and writes it to stdout with every marked signal table
    /// regenerated from `SignalTable` (`make docs` runs it over README.md and docs/operations.md).
    static func signalsDoc() -> Int32 {
        do {
            let document = try RuntimeResolver.readFile("/dev/stdin")
            print(SignalTable.regenerate(document), terminator: "")
            return ExitCode.success
        } catch {
            printError("signals-doc: standard input: \(error)")
            return ExitCode.failure
        }
    }

    static func checkConfig(_ resolver: RuntimeResolver) -> Int32 {
        guard let (runtime, _) = resolveOrReport(resolver) else { return ExitCode.configuration }
        let source = runtime.configuration.configFilePath.map { " (config file \($0))" } ?? ""
        print("configuration OK\(source)")
        return ExitCode.success
    }

    static func printConfig(_ resolver: RuntimeResolver) -> Int32 {
        guard let (runtime, _) = resolveOrReport(resolver, validate: false) else { return ExitCode.configuration }
        print(runtime.configuration.renderConfigFile(registry: resolver.registry), terminator: "")
        return ExitCode.success
    }

    static func runCommand(_ command: ApplicationCommand, _ resolver: RuntimeResolver, own: [String]) -> Int32 {
        guard let (runtime, positional) = resolveOrReport(resolver, validate: false) else {
            return ExitCode.configuration
        }
        let level = runtime.logLevel
        let stderrLog = try! LogFile(path: "-", standardStream: 2)
        LoggingSystem.bootstrap { _ in ErrorLogHandler(file: stderrLog, level: level) }
        var logger = Logger(label: resolver.name)
        logger.logLevel = level
        return command.run(runtime.configuration, positional + own, logger)
    }

    /// Resolves the configuration; on failure prints one line per problem and returns nil.
    /// `validate: false` skips the application's `validate` (its rules are for serving: the
    /// app's own commands and `print-config` run without, say, a SECRET_KEY).
    static func resolveOrReport(_ resolver: RuntimeResolver, validate: Bool = true) -> (ServerRuntime, [String])? {
        do {
            return try resolver.resolve(validate: validate)
        } catch let errors as ConfigurationErrors {
            for error in errors.errors { printError(error.description) }
        } catch {
            printError("\(error)")
        }
        return nil
    }

    static func printError(_ line: String) {
        let text = "error: \(line)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    static func usage(_ application: some PreforkApplication, _ registry: SettingsRegistry) -> String {
        var lines = [
            "usage: \(application.name) [COMMAND] [OPTIONS]",
            "",
            "commands:",
            "  serve          run the server (the default)",
            "  check-config   check the settings and exit (0: valid, 2: invalid)",
            "  print-config   print the effective settings as a config file, with their sources",
            "  settings-doc   print the settings reference (docs/settings.md)",
            "  signals-doc    copy markdown from stdin to stdout with its signal tables regenerated",
            "  version        print the version",
        ]
        for command in application.commands {
            lines.append("  " + command.name.padding(13) + "  " + command.summary)
        }
        lines.append("")
        lines.append("options (each also PREFORK_<NAME> in the environment and NAME in --config FILE):")
        for setting in registry.settings {
            let short = setting.short.map { "-\($0), " } ?? "    "
            lines.append("  \(short)\(setting.flag.padding(28)) \(setting.doc)")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
