import LDAP
import PreforkCore

/// Signs a user in against the district's directory: bind as the user (their own password is
/// the check), find their entry, map its groups to a role. One connection per sign-in, all of
/// it within `ldap_timeout`. Blocking; run in a worker (the LDAP module may start a helper
/// thread to bound a TLS handshake), never in the master before it forks.
struct DirectoryAuthenticator: Sendable {
    enum Outcome: Equatable {
        case signedIn(AccountStore.Role, groups: [String])
        /// The directory said no: wrong password, unknown user, or in no group that may sign in.
        case refused(String)
        /// The directory could not be asked: unreachable, slow, its certificate not trusted.
        case unavailable(String)
    }

    let options: LDAPOptions
    let baseDN: String
    let policy: DirectoryPolicy

    init?(_ configuration: Configuration) {
        guard let policy = DirectorySettings.policy(configuration) else { return nil }
        let server = configuration[DirectorySettings.server]
        let caFile = configuration[DirectorySettings.caCertificateFile]
        options = LDAPOptions(
            uri: server, startTLS: server.lowercased().hasPrefix("ldap://"),
            verifyCertificate: configuration[DirectorySettings.verifyCertificate],
            caCertificateFile: caFile.isEmpty ? nil : caFile,
            timeoutSeconds: configuration[DirectorySettings.timeout].value)
        baseDN = configuration[DirectorySettings.baseDN]
        self.policy = policy
    }

    func authenticate(_ name: String, _ password: String) -> Outcome {
        do {
            let connection = try LDAPConnection(options)
            try connection.bind(dn: policy.bindIdentity(name), password: password)
            let entries = try connection.search(
                base: baseDN, filter: policy.searchFilter(name), attributes: ["memberOf"])
            let groups = entries.first?.values("memberOf") ?? []
            guard let role = policy.role(memberOf: groups) else {
                return .refused("\(name) is in no group that may use this tool (ask IT to add them to one)")
            }
            return .signedIn(role, groups: groups)
        } catch {
            switch error.kind {
            case .invalidCredentials: return .refused("the directory refused the name or password")
            case .unavailable, .certificate: return .unavailable(error.message)
            case .other: return .unavailable(error.message)
            }
        }
    }
}
