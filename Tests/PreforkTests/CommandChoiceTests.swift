import Testing

@testable import Prefork

@Suite struct CommandChoiceTests {
    @Test func theFirstWordOrGunicornsFlagsChooseTheCommand() {
        #expect(Prefork.command(in: []) == ("serve", []))
        #expect(Prefork.command(in: ["-w", "4"]) == ("serve", ["-w", "4"]))
        #expect(Prefork.command(in: ["migrate", "3"]) == ("migrate", ["3"]))
        #expect(Prefork.command(in: ["--version"]) == ("--version", []))
        #expect(Prefork.command(in: ["-w", "4", "--check-config"]) == ("check-config", ["-w", "4"]))
        #expect(
            Prefork.command(in: ["--print-config", "--bind", "unix:/x"]) == ("print-config", ["--bind", "unix:/x"]))
    }
}
