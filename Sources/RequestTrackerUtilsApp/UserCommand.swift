import Logging
import Prefork
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// `request-tracker-utils user ...`: local accounts and API tokens, for the first
/// administrator and for districts without a directory. Passwords are read from standard input
/// when it is not a terminal (one line), else prompted for twice with echo off; they never
/// appear on the command line, so never in `ps` or a shell history.
enum UserCommand {
    static let command = ApplicationCommand(
        name: "user",
        summary: "accounts: `user add NAME --role tech|teacher`, `user passwd|disable|enable NAME`, `user list`, "
            + "`user token create NAME`, `user token revoke NAME [TOKEN]`, `user check NAME` (the directory)",
        options: ["--role"], run: run)

    static let usage =
        "use `user add NAME --role tech|teacher`, `user passwd NAME`, `user disable NAME`, `user enable NAME`, "
        + "`user list`, `user token create NAME`, `user token revoke NAME [TOKEN]` or `user check NAME`"

    static func run(_ configuration: Configuration, _ arguments: [String], _ logger: Logger) -> Int32 {
        var words = arguments
        var role: AccountStore.Role?
        if let index = words.firstIndex(of: "--role") {
            guard index + 1 < words.count, let chosen = AccountStore.Role(rawValue: words[index + 1]) else {
                AppCommands.fail("user: --role must be tech or teacher")
                return 1
            }
            role = chosen
            words.removeSubrange(index...(index + 1))
        }
        if words.first == "check" { return checkDirectory(configuration, words) }
        do {
            let database = try AppDatabase.open(configuration, applicationName: "request-tracker-utils user")
            let version = try Migrator(database: database).appliedVersions().last ?? 0
            guard version >= Migrations.latest else {
                AppCommands.fail(
                    "user: the database \(database.location) is at schema version \(version), this release needs "
                        + "\(Migrations.latest): run `request-tracker-utils migrate` first")
                return 1
            }
            let accounts = AccountStore(database: database)
            return try perform(words, role: role, accounts)
        } catch {
            AppCommands.fail("user: \(error)")
            return 1
        }
    }

    private static func perform(_ words: [String], role: AccountStore.Role?, _ accounts: AccountStore) throws -> Int32 {
        switch (words.first, words.count) {
        case ("add", 2):
            guard let role else {
                AppCommands.fail("user add: say the role: --role tech (everything) or --role teacher (audits)")
                return 1
            }
            // The name is checked before the password is asked for.
            guard AccountStore.normalized(words[1]) != nil else { throw AccountStore.badName(words[1]) }
            if try accounts.find(words[1]) != nil {
                AppCommands.fail("user add: there is already a user named \(words[1].lowercased()) (see `user list`)")
                return 1
            }
            let account = try accounts.addLocal(words[1], role: role, password: try readPassword())
            print("added \(account.name) (\(account.role.title)); sign in at /login")
        case ("passwd", 2):
            guard try accounts.find(words[1]) != nil else {
                AppCommands.fail("user passwd: there is no user named \(words[1].lowercased()) (see `user list`)")
                return 1
            }
            try accounts.setPassword(words[1], try readPassword())
            print("password of \(words[1].lowercased()) changed; its sessions were ended")
        case ("disable", 2), ("enable", 2):
            try accounts.setDisabled(words[1], words[0] == "disable")
            print("\(words[1].lowercased()) \(words[0])d")
        case ("list", 1):
            for account in try accounts.list() {
                let state = account.disabled ? "disabled" : "enabled"
                let last = account.lastSignInAt.isEmpty ? "never signed in" : "last sign-in \(account.lastSignInAt)"
                print("\(account.name)\t\(account.role.rawValue)\t\(account.source)\t\(state)\t\(last)")
            }
        case ("token", 3) where words[1] == "create":
            let token = try accounts.createToken(words[2])
            print("API token for \(words[2].lowercased()) (shown once; send it as `Authorization: Bearer TOKEN`):")
            print(token)
        case ("token", 3) where words[1] == "revoke", ("token", 4) where words[1] == "revoke":
            let count = try accounts.revokeTokens(words[2], token: words.count == 4 ? words[3] : nil)
            print("revoked \(count) token(s) of \(words[2].lowercased())")
        default:
            AppCommands.fail("user: unexpected `\(words.joined(separator: " "))` (\(usage))")
            return 1
        }
        return 0
    }

    /// `user check NAME`: signs NAME in against the directory with a password from standard
    /// input (or a prompt) and says which role they would get, or why not, in one line: for
    /// setting the directory up without a browser.
    static func checkDirectory(_ configuration: Configuration, _ words: [String]) -> Int32 {
        guard words.count == 2 else {
            AppCommands.fail("user check: say whom, `user check NAME` (the password is read from standard input)")
            return 1
        }
        guard let directory = DirectoryAuthenticator(configuration) else {
            AppCommands.fail("user check: the directory is off (ldap_server is empty); local accounts only")
            return 1
        }
        do {
            switch directory.authenticate(words[1], try readPassword(confirm: false)) {
            case .signedIn(let role, let groups):
                print("\(words[1]) signs in as \(role.title) (groups: \(groups.joined(separator: "; ")))")
                return 0
            case .refused(let reason):
                AppCommands.fail("user check: \(words[1]) cannot sign in: \(reason)")
            case .unavailable(let reason):
                AppCommands.fail("user check: the directory could not be asked: \(reason)")
            }
        } catch {
            AppCommands.fail("user check: \(error)")
        }
        return 1
    }

    /// One line from standard input, or, on a terminal, typed twice with echo off.
    static func readPassword(confirm: Bool = true) throws -> String {
        guard isatty(0) == 1 else {
            guard let line = readLine(strippingNewline: true) else {
                throw AccountStore.Failure(description: "no password on standard input (give it as one line)")
            }
            return line
        }
        let first = try prompt(confirm ? "Password (at least 12 characters): " : "Password: ")
        guard confirm else { return first }
        let second = try prompt("Again: ")
        guard first == second else {
            throw AccountStore.Failure(description: "the two passwords differ; nothing changed")
        }
        return first
    }

    private static func prompt(_ text: String) throws -> String {
        var saved = termios()
        tcgetattr(0, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(0, TCSAFLUSH, &saved)
            _ = write(1, "\n", 1)
        }
        _ = text.withCString { write(1, $0, strlen($0)) }
        guard let line = readLine(strippingNewline: true) else {
            throw AccountStore.Failure(description: "no password typed; nothing changed")
        }
        return line
    }
}
