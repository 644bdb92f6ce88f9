import Testing

@testable import PreforkCore

/// Every settings suite, nested so `swift test --filter SettingsTests` selects them all.
@Suite struct SettingsTests {}

extension SettingsTests {
    @Suite struct SettingsPrecedenceTests {
        @Test func defaultsWhenNothingIsGiven() throws {
            let (config, positional) = try resolve()
            #expect(config[.workers] == 1)
            #expect(config[.bind] == ["127.0.0.1:8000"])
            #expect(config[.timeout] == Seconds(30))
            #expect(config[.pid] == nil)
            #expect(config[.logLevel] == .info)
            #expect(config[.umask] == OctalMode(0o022))
            #expect(config[.unixSocketMode].value == 0o660)
            #expect(config[.accessLogFormat].hasSuffix(#""%(a)s" %(rid)s"#))
            #expect(config.source(of: "workers") == .defaultValue)
            #expect(config.configFilePath == nil)
            #expect(positional.isEmpty)
        }

        @Test func commandLineBeatsEnvironmentBeatsFileBeatsDefault() throws {
            let files = ["/etc/app.toml": "workers = 2\ntimeout = 60\nbacklog = 10\n"]
            let environment = ["PREFORK_CONFIG": "/etc/app.toml", "PREFORK_WORKERS": "3", "PREFORK_TIMEOUT": "45"]
            let (config, _) = try resolve(["-w", "4"], environment: environment, files: files)
            #expect(config[.workers] == 4)
            #expect(config.source(of: "workers") == .commandLine(flag: "-w"))
            #expect(config[.timeout] == Seconds(45))
            #expect(config.source(of: "timeout") == .environment(name: "PREFORK_TIMEOUT"))
            #expect(config[.backlog] == 10)
            #expect(config.source(of: "backlog") == .file(path: "/etc/app.toml", line: 3))
            #expect(config[.maxRequests] == 0)
            #expect(config.source(of: "max_requests") == .defaultValue)
            #expect(config.configFilePath == "/etc/app.toml")
            #expect(config[.config] == "/etc/app.toml")
            #expect(config.source(of: "config") == .environment(name: "PREFORK_CONFIG"))
        }

        @Test func sourceDescriptions() throws {
            #expect(SettingSource.defaultValue.description == "default")
            #expect(SettingSource.file(path: "/etc/x.toml", line: 3).description == "config file /etc/x.toml line 3")
            #expect(SettingSource.environment(name: "PREFORK_WORKERS").description == "environment PREFORK_WORKERS")
            #expect(SettingSource.commandLine(flag: "--workers").description == "command line --workers")
        }

        @Test func configFlagBeatsConfigEnvironment() throws {
            let files = ["/a.toml": "workers = 5", "/b.toml": "workers = 6"]
            let (config, _) = try resolve(
                ["--config", "/b.toml"], environment: ["PREFORK_CONFIG": "/a.toml"], files: files)
            #expect(config[.workers] == 6)
            #expect(config.configFilePath == "/b.toml")
            let (short, _) = try resolve(["-c/a.toml"], files: files)
            #expect(short[.workers] == 5)
        }

        @Test func portSetsTheDefaultBind() throws {
            let (config, _) = try resolve(environment: ["PORT": "5000"])
            #expect(config[.bind] == ["0.0.0.0:5000"])
            #expect(config.source(of: "bind") == .environment(name: "PORT"))
            let (invalid, _) = try resolve(environment: ["PORT": "http"])
            #expect(invalid[.bind] == ["127.0.0.1:8000"])
            let (explicit, _) = try resolve(["-b", "unix:/run/a.sock"], environment: ["PORT": "5000"])
            #expect(explicit[.bind] == ["unix:/run/a.sock"])
            let (file, _) = try resolve(
                ["-c", "/x.toml"], environment: ["PORT": "5000"], files: ["/x.toml": "bind = \"127.0.0.1:1\""])
            #expect(file[.bind] == ["127.0.0.1:1"])
        }

        @Test func webConcurrencySetsWorkersButPreforkWorkersWins() throws {
            let (config, _) = try resolve(environment: ["WEB_CONCURRENCY": "7"])
            #expect(config[.workers] == 7)
            #expect(config.source(of: "workers") == .environment(name: "WEB_CONCURRENCY"))
            let (both, _) = try resolve(environment: ["WEB_CONCURRENCY": "7", "PREFORK_WORKERS": "2"])
            #expect(both[.workers] == 2)
        }
    }
}

extension SettingsTests {
    @Suite struct SettingsCommandLineTests {
        @Test func valueForms() throws {
            let (config, _) = try resolve(["--workers=3", "-t", "2s", "--backlog", "64", "-w5", "--keepalive=500ms"])
            #expect(config[.workers] == 5)
            #expect(config.source(of: "workers") == .commandLine(flag: "-w"))
            #expect(config[.timeout] == Seconds(2))
            #expect(config[.backlog] == 64)
            #expect(config[.keepalive] == Seconds(0.5))
        }

        @Test func switchesAndNoSwitches() throws {
            #expect(try resolve(["--reuse-port"]).0[.reusePort] == true)
            #expect(try resolve(["--no-reuse-port"], environment: ["PREFORK_REUSE_PORT": "yes"]).0[.reusePort] == false)
            #expect(try resolve(["--reuse-port=off"]).0[.reusePort] == false)
            let (last, _) = try resolve(["--reuse-port", "--no-reuse-port"])
            #expect(last[.reusePort] == false)
            #expect(last.source(of: "reuse_port") == .commandLine(flag: "--no-reuse-port"))
            #expect(
                errorLines(["--no-reuse-port=true"]) == [
                    "command line: --no-reuse-port takes no value (use --reuse-port=VALUE to set one)"
                ])
            // A switch takes no separate argument: the next word is positional.
            let (config, positional) = try resolve(["--reuse-port", "app"])
            #expect(config[.reusePort])
            #expect(positional == ["app"])
        }

        @Test func repeatedListFlagsAccumulate() throws {
            let (config, _) = try resolve(
                ["--bind", "127.0.0.1:1", "-b", "[::1]:2", "--bind=unix:/run/x.sock,fd://3"],
                environment: ["PREFORK_BIND": "0.0.0.0:9"])
            #expect(config[.bind] == ["127.0.0.1:1", "[::1]:2", "unix:/run/x.sock", "fd://3"])
        }

        @Test func doubleDashEndsOptions() throws {
            let (config, positional) = try resolve(["-w", "2", "app:main", "--", "--workers", "9", "-x"])
            #expect(config[.workers] == 2)
            #expect(positional == ["app:main", "--workers", "9", "-x"])
        }

        @Test func dashAloneIsAValue() throws {
            let (config, _) = try resolve(["--access-logfile", "-"])
            #expect(config[.accessLogfile] == "-")
        }

        @Test func missingValues() throws {
            #expect(errorLines(["--workers"]) == ["command line: --workers needs a value"])
            #expect(errorLines(["-w", "--bind", "x:1"]) == ["command line: -w needs a value"])
        }

        @Test func unknownOptions() throws {
            #expect(
                errorLines(["--wokers", "3"]) == ["command line: unknown option --wokers (did you mean --workers?)"])
            #expect(
                errorLines(["--no-reuseport"]) == [
                    "command line: unknown option --no-reuseport (did you mean --no-reuse-port?)"
                ])
            #expect(
                errorLines(["--zzzzzzzz"]) == [
                    "command line: unknown option --zzzzzzzz (check the spelling against the settings reference)"
                ])
            #expect(errorLines(["-Z"]).first?.hasPrefix("command line: unknown option -Z") == true)
        }
    }
}

extension SettingsTests {
    @Suite struct SettingsErrorTests {
        @Test func badEnvironmentValueNamesSettingSourceAndRemedy() throws {
            #expect(
                errorLines(environment: ["PREFORK_WORKERS": "abc"]) == [
                    #"setting 'workers' from environment PREFORK_WORKERS: "abc" is not a whole number (use a whole number from 1 to 1024)"#
                ])
        }

        @Test func validatorReasons() throws {
            #expect(
                errorLines(["--workers", "0"]) == [
                    "setting 'workers' from command line --workers: must be at least 1, not 0 (use a whole number from 1 to 1024)"
                ])
            #expect(
                errorLines(["-b", "localhost"]) == [
                    #"setting 'bind' from command line -b: "localhost" has no port (use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N)"#
                ])
            #expect(
                errorLines(["--log-level", "loud"]) == [
                    #"setting 'log_level' from command line --log-level: "loud" is not a valid choice (use one of debug, info, warning, error, critical)"#
                ])
            #expect(errorLines(["--log-level", "warnin"]).first?.contains("did you mean warning?") == true)
        }

        @Test func unknownFileSettingSuggestsTheClosest() throws {
            let files = ["/etc/rtu.toml": "# settings\n\nbind = \"0.0.0.0:80\"\n\n\n\nworker = 4\n"]
            #expect(
                errorLines(["-c", "/etc/rtu.toml"], files: files) == [
                    "config file /etc/rtu.toml line 7: unknown setting 'worker' (did you mean 'workers'?)"
                ])
        }

        @Test func unknownPrefixedEnvironmentVariable() throws {
            #expect(
                errorLines(environment: ["PREFORK_WOKERS": "2", "HOME": "/root"]) == [
                    "environment: unknown variable PREFORK_WOKERS (did you mean PREFORK_WORKERS?)"
                ])
            let registry = SettingsRegistry(ServerSettings.serverSettings, reservedEnvironment: ["PREFORK_LISTEN_FDS"])
            #expect(errorLines(environment: ["PREFORK_LISTEN_FDS": "3"], registry: registry).isEmpty)
        }

        @Test func missingConfigFile() throws {
            #expect(
                errorLines(["--config", "/nope.toml"]) == [
                    "config file /nope.toml: No such file or directory (check --config / PREFORK_CONFIG)"
                ])
        }

        @Test func syntaxErrorNamesFileAndLine() throws {
            let files = ["/x.toml": "workers = 2\nbind = 127.0.0.1:80\n"]
            #expect(
                errorLines(["-c", "/x.toml"], files: files) == [
                    #"config file /x.toml line 2: 127.0.0.1:80 is not a value (put text in quotes: "127.0.0.1:80")"#
                ])
        }

        @Test func badFileValue() throws {
            let files = ["/x.toml": "workers = \"many\"\npid = 3\n"]
            #expect(
                errorLines(["-c", "/x.toml"], files: files) == [
                    #"setting 'workers' from config file /x.toml line 1: "many" is not a whole number (use a whole number from 1 to 1024)"#,
                    #"setting 'pid' from config file /x.toml line 2: 3 is not a string (put text in quotes, like "3")"#,
                ])
        }

        @Test func allErrorsAreReportedAtOnce() throws {
            let files = ["/x.toml": "workerz = 2\ntimeout = \"soon\"\n"]
            let lines = errorLines(
                ["-c", "/x.toml", "--wokers", "2", "--backlog", "0", "--max-requests"],
                environment: ["PREFORK_LOG_LEVEL": "loud", "PREFORK_NOPE": "1", "PREFORK_KEEPALIVE": "-1"], files: files
            )
            #expect(lines.count == 8, "\(lines)")
            for fragment in [
                "unknown option --wokers", "--max-requests needs a value", "setting 'backlog'", "setting 'log_level'",
                "setting 'keepalive'", "PREFORK_NOPE", "unknown setting 'workerz'", "setting 'timeout'",
            ] {
                #expect(lines.contains { $0.contains(fragment) }, "\(fragment) missing from \(lines)")
            }
        }

        @Test func duplicateAndForbiddenFileKeys() throws {
            let files = ["/x.toml": "workers = 2\nworkers = 3\nconfig = \"/y.toml\"\n"]
            #expect(
                errorLines(["-c", "/x.toml"], files: files) == [
                    "config file /x.toml line 2: 'workers' is already set on line 1 (keep one of them)",
                    "config file /x.toml line 3: 'config' cannot be set inside a config file (use --config or PREFORK_CONFIG)",
                ])
        }

        @Test func secretValuesAreNotEchoed() throws {
            let token = SettingKey<Int>("api_token", section: "App", default: 0, doc: "Token.", secret: true)
            let registry = ServerSettings.registry.appending([token.any])
            let lines = errorLines(environment: ["PREFORK_API_TOKEN": "hunter2"], registry: registry)
            #expect(lines.count == 1)
            #expect(!lines[0].contains("hunter2"))
        }

        @Test func errorsDescribeOnePerLine() throws {
            let errors = ConfigurationErrors([ConfigurationError("a"), ConfigurationError("b")])
            #expect(errors.description == "a\nb")
        }
    }
}

extension SettingsTests {
    @Suite struct SettingValueTests {
        @Test func integers() throws {
            #expect(try Int.parse(" 42 ").get() == 42)
            #expect(
                Int.parse("abc")
                    == .failure(
                        SettingParseFailure(reason: #""abc" is not a whole number"#, remedy: "use a whole number")))
            #expect(Int.parse("4.5").isFailure)
            #expect(42.rendered == "42")
            #expect(Int.typeName == "integer")
        }

        @Test(arguments: ["true", "TRUE", "yes", "On", "1"]) func truthy(_ text: String) throws {
            #expect(try Bool.parse(text).get() == true)
        }

        @Test(arguments: ["false", "No", "OFF", "0"]) func falsy(_ text: String) throws {
            #expect(try Bool.parse(text).get() == false)
        }

        @Test func booleansRefuseOtherWords() throws {
            #expect(Bool.parse("maybe").isFailure)
            #expect(true.rendered == "true")
        }

        @Test func doubles() throws {
            #expect(try Double.parse("1.5").get() == 1.5)
            #expect(Double.parse("nan").isFailure)
            #expect(Double.parse("x").isFailure)
        }

        @Test func strings() throws {
            #expect(try String.parse("a b").get() == "a b")
            #expect("say \"hi\"\\\n\t".rendered == #""say \"hi\"\\\n\t""#)
            #expect(String.parse(fileValue: .integer(3, literal: "3")).isFailure)
        }

        @Test func lists() throws {
            #expect(try [String].parse("a, b,,c ").get() == ["a", "b", "c"])
            #expect(try [String].parse("").get() == [])
            #expect(try [String].parse(fileValue: .string("a,b")).get() == ["a,b"])
            #expect(try [String].parse(fileValue: .array(["a", "b"])).get() == ["a", "b"])
            #expect(["a", "b\""].rendered == #"["a", "b\""]"#)
            #expect([String].accumulating(["a"], ["b"]) == ["a", "b"])
            #expect(Int.accumulating(1, 2) == 2)
        }

        @Test func optionals() throws {
            #expect(try String?.parse("").get() == nil)
            #expect(try String?.parse("x").get() == "x")
            #expect(String?.none.rendered == #""""#)
            #expect(try Int?.parse("5").get() == 5)
            #expect(String?.typeName == "string, optional")
        }

        @Test(arguments: [
            ("30", 30.0), ("0.5", 0.5), ("2s", 2), ("500ms", 0.5), ("1m", 60), ("1h", 3600), (" 1.5 S ", 1.5),
        ])
        func seconds(_ text: String, _ expected: Double) throws {
            #expect(try Seconds.parse(text).get() == Seconds(expected))
        }

        @Test func secondsRefuseNonsense() throws {
            for text in ["", "abc", "-1", "1d", "inf", "ms"] { #expect(Seconds.parse(text).isFailure, "\(text)") }
            #expect(Seconds(30).rendered == "30")
            #expect(Seconds(0.25).rendered == "0.25")
            #expect(Seconds(1.5).duration == .milliseconds(1500))
        }

        @Test(arguments: ["0o22", "022", "0022", "22", "0O022"]) func octalModes(_ text: String) throws {
            #expect(try OctalMode.parse(text).get() == OctalMode(0o22))
        }

        @Test func octalModesRefuseNonOctal() throws {
            for text in ["", "8", "0o9", "abc", "77777", "-1"] { #expect(OctalMode.parse(text).isFailure, "\(text)") }
            #expect(OctalMode(0o22).rendered == "0o022")
            #expect(OctalMode(0o4755).rendered == "0o4755")
            #expect(try OctalMode.parse(fileValue: .integer(0o660, literal: "0o660")).get() == OctalMode(0o660))
            #expect(try OctalMode.parse(fileValue: .integer(22, literal: "22")).get() == OctalMode(0o22))
        }

        @Test func choices() throws {
            #expect(try LogLevelName.parse("WARNING").get() == .warning)
            #expect(LogLevelName.parse("loud").isFailure)
            #expect(LogLevelName.error.rendered == #""error""#)
            #expect(LogLevelName.typeName == "one of debug, info, warning, error, critical")
        }

        /// Every value renders to config-file text that parses back to the same value.
        @Test func renderedValuesReadBackFromAFile() throws {
            func roundTrip<V: SettingValue>(_ value: V) throws {
                let text = "key = \(value.rendered)\n"
                let entries = try ConfigFileParser.parse(text).get()
                #expect(try V.parse(fileValue: #require(entries.first).value).get() == value, "\(text)")
            }
            try roundTrip(42)
            try roundTrip(-7)
            try roundTrip(true)
            try roundTrip(0.1 + 0.2)
            try roundTrip("quote \" backslash \\ newline \n tab \t bell \u{07} é")
            try roundTrip(["a", "b c", "\"d\""])
            try roundTrip([String]())
            try roundTrip(String?.none)
            try roundTrip(String?.some("x"))
            try roundTrip(Seconds(0.001))
            try roundTrip(Seconds(30))
            try roundTrip(OctalMode(0o7))
            try roundTrip(LogLevelName.critical)
        }
    }
}
