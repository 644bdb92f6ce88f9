import Testing

@testable import PreforkCore

extension SettingsTests {
    @Suite struct ConfigFileParserTests {
        @Test func valuesCommentsAndKeys() throws {
            let text = """
                # comment
                workers = 4   # trailing
                max-requests = 1_000
                ratio = 2.5e0
                on = true
                off = false
                s = "a\\"b\\\\c\\n\\t\\u00e9"
                lit = 'C:\\path "x"'
                list = ["a", 'b', ]
                multi = [
                  "x",  # first
                  "y"
                ]
                mode = 0o022
                empty = []
                """
            let entries = try ConfigFileParser.parse(text).get()
            let byKey = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0) })
            #expect(byKey["workers"]?.value == .integer(4, literal: "4"))
            #expect(byKey["workers"]?.line == 2)
            #expect(byKey["max_requests"]?.value == .integer(1000, literal: "1_000"))
            #expect(byKey["ratio"]?.value == .float(2.5, literal: "2.5e0"))
            #expect(byKey["on"]?.value == .boolean(true))
            #expect(byKey["off"]?.value == .boolean(false))
            #expect(byKey["s"]?.value == .string("a\"b\\c\n\té"))
            #expect(byKey["lit"]?.value == .string(#"C:\path "x""#))
            #expect(byKey["list"]?.value == .array(["a", "b"]))
            #expect(byKey["multi"]?.value == .array(["x", "y"]))
            #expect(byKey["multi"]?.line == 10)
            #expect(byKey["mode"]?.value == .integer(0o22, literal: "0o022"))
            #expect(byKey["empty"]?.value == .array([]))
            #expect(byKey["mode"]?.line == 14)
        }

        @Test(arguments: [
            ("[server]", 1, "tables like [section] are not supported"),
            ("a = 1\nb", 2, "expected '=' after 'b'"),
            ("a =", 1, "missing value after '='"),
            ("a = \"open", 1, "unterminated string"),
            ("a = 'open", 1, "unterminated string"),
            ("a = [\"x\"", 1, "unterminated list"),
            ("a = [1, 2]", 1, "lists may only hold quoted strings"),
            ("a = 1 2", 1, "unexpected text after the value"),
            ("a = 022", 1, "022 has a leading zero (write 0o22 for an octal mode)"),
            ("a = \"\\q\"", 1, "unknown escape \\q"),
            ("a.b = 1", 1, "expected '=' after 'a'"),
            ("\n\na = yes", 3, "yes is not a value"),
        ])
        func syntaxErrors(_ text: String, _ line: Int, _ reason: String) throws {
            guard case .failure(let error) = ConfigFileParser.parse(text) else {
                Issue.record("\(text) parsed")
                return
            }
            #expect(error.line == line)
            #expect(error.reason.hasPrefix(reason), "\(error.reason)")
        }

        @Test func crlfLineEndings() throws {
            let entries = try ConfigFileParser.parse("a = 1\r\nb = \"x\"\r\n").get()
            #expect(entries.map(\.key) == ["a", "b"])
            #expect(entries[1].line == 2)
        }
    }
}

extension SettingsTests {
    @Suite struct PrintConfigTests {
        @Test func printConfigReadsBackAsTheSameConfiguration() throws {
            let (original, _) = try resolve(
                [
                    "-w", "3", "-b", "[::1]:9000", "-b", "unix:/run/app.sock", "--reuse-port", "--umask", "0o027",
                    "--access-log-format", "%(h)s \"%(r)s\" \\ tab\t", "--log-level", "debug", "--pid=/run/a.pid",
                ],
                environment: ["PREFORK_TIMEOUT": "2.5", "PORT": "5000"])
            let text = original.renderConfigFile(registry: ServerSettings.registry)
            #expect(text.contains("workers = 3  # command line -w"))
            #expect(text.contains("timeout = 2.5  # environment PREFORK_TIMEOUT"))
            #expect(text.contains("max_requests = 0  # default"))
            #expect(text.contains("# Server socket"))
            let (reread, _) = try resolve(["--config", "/printed.toml"], files: ["/printed.toml": text])
            #expect(reread == original)
            guard case .file(path: "/printed.toml", _) = reread.source(of: "workers") else {
                Issue.record("workers not read from the file")
                return
            }
            // Printing again gives the same values with file sources.
            let again = reread.renderConfigFile(registry: ServerSettings.registry)
            #expect(again.contains("# Config file read: /printed.toml"))
        }

        @Test func configurationsDifferWhenAValueDiffers() throws {
            #expect(try resolve(["-w", "2"]).0 != resolve(["-w", "3"]).0)
            #expect(try resolve(["-w", "2"]).0 == resolve(environment: ["WEB_CONCURRENCY": "2"]).0)
        }

        @Test func secretsAreHiddenUnlessRevealed() throws {
            let key = SettingKey<String>(
                "secret_key", section: "App", env: ["SECRET_KEY"], default: "", doc: "Key.", secret: true)
            let registry = ServerSettings.registry.appending([key.any])
            let (config, _) = try resolve(environment: ["SECRET_KEY": "s3cr3t"], registry: registry)
            #expect(config[key] == "s3cr3t")
            #expect(!config.renderConfigFile(registry: registry).contains("s3cr3t"))
            #expect(
                config.renderConfigFile(registry: registry, revealSecrets: true).contains(#"secret_key = "s3cr3t""#))
        }
    }
}

extension SettingsTests {
    @Suite struct RegistryTests {
        @Test func applicationSettingsJoinTheRegistry() throws {
            let rtURL = SettingKey<String>(
                "rt_url", section: "Request Tracker", env: ["RT_URL"], default: "http://rt", doc: "RT base URL.")
            let registry = ServerSettings.registry.appending([rtURL.any])
            let (config, _) = try resolve(["--rt-url", "https://rt.example"], registry: registry)
            #expect(config[rtURL] == "https://rt.example")
            let (fromEnv, _) = try resolve(environment: ["RT_URL": "https://env"], registry: registry)
            #expect(fromEnv[rtURL] == "https://env")
            #expect(registry.markdownReference(title: "Settings").contains("## Request Tracker"))
        }

        @Test func derivedNames() throws {
            let key = SettingKey<Int>("max_requests_jitter", section: "S", default: 0, doc: "D.")
            #expect(key.flag == "--max-requests-jitter")
            #expect(key.env == ["PREFORK_MAX_REQUESTS_JITTER"])
            #expect(key.any.negatedFlag == nil)
            #expect(SettingKey<Bool>.reusePort.any.negatedFlag == "--no-reuse-port")
        }

        @Test func builtInFileSettingsAreAlwaysThere() throws {
            let registry = SettingsRegistry([])
            #expect(registry.settings.map(\.name) == ["config", "secrets_file"])
            #expect(ServerSettings.registry.settings.first?.name == "config")
        }

        @Test func serverDefaultsPassTheirOwnValidators() throws {
            for setting in ServerSettings.registry.settings {
                #expect(setting.check(setting.defaultIn([:])) == nil, "\(setting.name)")
                #expect(!setting.doc.isEmpty)
                let written = try ConfigFileParser.parse("k = \(setting.defaultRendered)").get()[0].value
                let reread = try setting.parseFile(written).get()
                #expect(settingValuesEqual(reread, setting.defaultIn([:])), "\(setting.name)")
            }
        }

        @Test func everySectionIsOneOfTheDocumentedOnes() throws {
            let sections = Set(ServerSettings.registry.settings.map(\.section))
            #expect(
                sections == [
                    "Config file", "Server socket", "Worker processes", "Timeouts", "Security limits", "Proxy",
                    "Server mechanics", "Logging",
                ])
        }

        @Test func markdownReferenceListsEverySetting() throws {
            let registry = ServerSettings.registry
            let markdown = registry.markdownReference(title: "Settings")
            #expect(markdown.hasPrefix("# Settings\n"))
            for setting in registry.settings {
                #expect(markdown.contains("### `\(setting.name)`"), "\(setting.name)")
                #expect(markdown.contains("`\(setting.flag)`"))
                #expect(markdown.contains(setting.doc))
                for name in setting.env { #expect(markdown.contains("`\(name)`")) }
            }
            #expect(markdown.contains("`-w`, `--workers`"))
            #expect(markdown.contains("`--reuse-port`, `--no-reuse-port`"))
            #expect(markdown.contains("`PREFORK_WORKERS`, `WEB_CONCURRENCY`"))
            #expect(markdown.contains("- Default: `0o660`"))
            #expect(markdown.contains("- Default: none (empty)"))
        }
    }
}

extension SettingsTests {
    @Suite struct AddressValidationTests {
        @Test(arguments: [
            "127.0.0.1:8000", "0.0.0.0:0", "localhost:80", "[::1]:8000", "[fe80::1:2]:443", "[::ffff:10.0.0.1]:1",
            "unix:/run/app.sock", "fd://3",
        ])
        func goodListenAddresses(_ address: String) throws {
            #expect(SettingValidators.listenAddressProblem(address) == nil)
        }

        @Test(arguments: ["localhost", "::1:80", "[::1]", "[zz]:80", "host:99999", "unix:", "fd://x", ":80", "h:8a"])
        func badListenAddresses(_ address: String) throws {
            #expect(SettingValidators.listenAddressProblem(address) != nil)
        }

        @Test(arguments: ["*", "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "2001:db8::1", "::", "1:2:3:4:5:6:7:8"])
        func goodAddressPatterns(_ pattern: String) throws {
            #expect(SettingValidators.isAddressPattern(pattern))
        }

        @Test(arguments: [
            "10.0.0.256", "10.0.0", "10.0.0.0/33", "::1/129", "1::2::3", "1:2:3:4:5:6:7:8:9", "host", "10.0.0.1/",
        ])
        func badAddressPatterns(_ pattern: String) throws {
            #expect(!SettingValidators.isAddressPattern(pattern))
        }
    }
}

extension SettingsTests {
    @Suite struct SecretsFileTests {
        @Test func parsesSystemdEnvironmentFileSyntax() throws {
            let text = """
                # comment
                ; another
                SECRET_KEY=abc def \t
                export RT_TOKEN="1-2-\\"3\\"\\n"
                  RT_PASSWORD='p a $s' # trailing comment
                EMPTY=

                """
            let entries = try EnvironmentFileParser.parse(text).get()
            #expect(entries.map(\.name) == ["SECRET_KEY", "RT_TOKEN", "RT_PASSWORD", "EMPTY"])
            #expect(entries.map(\.value) == ["abc def", "1-2-\"3\"\n", "p a $s", ""])
            #expect(entries.map(\.line) == [3, 4, 5, 6])
        }

        @Test func syntaxErrorsNameTheLineButNotTheValue() {
            let cases: [(String, String)] = [
                ("A=1\nno equals sign here\n", "line 2: expected NAME=VALUE"),
                ("1BAD=x", "line 1: '1BAD' is not a variable name (letters, digits and _)"),
                ("K='secret", "line 1: the value's opening ' is never closed"),
                ("K=\"secret\" tail", "line 1: text after the closing quote of the value"),
            ]
            for (text, expected) in cases {
                guard case .failure(let error) = EnvironmentFileParser.parse(text) else {
                    Issue.record("\(text) parsed")
                    continue
                }
                #expect("line \(error.line): \(error.reason)" == expected)
                #expect(!error.reason.contains("secret"))
            }
        }

        @Test func fileValuesSitBelowTheEnvironmentAndNameTheirSource() throws {
            let files = ["/etc/rtu/secrets.env": "PREFORK_WORKERS=3\nPREFORK_TIMEOUT=7\n"]
            let (config, _) = try resolve(
                ["--secrets-file", "/etc/rtu/secrets.env"], environment: ["PREFORK_TIMEOUT": "9"], files: files)
            #expect(config[.workers] == 3)
            #expect(
                config.source(of: "workers")
                    == .secretsFile(path: "/etc/rtu/secrets.env", line: 1, name: "PREFORK_WORKERS"))
            #expect(config.source(of: "timeout") == .environment(name: "PREFORK_TIMEOUT"))
            let (viaEnvironment, _) = try resolve(environment: ["SECRETS_FILE": "/etc/rtu/secrets.env"], files: files)
            #expect(viaEnvironment[.workers] == 3)
        }

        @Test func problemsInTheFileAreOneLineEach() {
            #expect(
                errorLines(["--secrets-file", "/nope"])
                    == [
                        "secrets file /nope: No such file or directory (check --secrets-file / PREFORK_SECRETS_FILE / SECRETS_FILE)"
                    ])
            #expect(
                errorLines(["--secrets-file", "/s"], files: ["/s": "PREFORK_WOKERS=2\n"])
                    == ["environment: unknown variable PREFORK_WOKERS (did you mean PREFORK_WORKERS?)"])
            #expect(
                errorLines(["--config", "/c"], files: ["/c": "secrets_file = \"/s\"\n"])
                    == [
                        "config file /c line 1: 'secrets_file' cannot be set inside a config file (use --secrets-file or PREFORK_SECRETS_FILE or SECRETS_FILE)"
                    ])
        }
    }
}
