import LDAP

/// The decisions of a directory sign-in, without a connection: whom to bind as, how to find
/// the user's entry, and which role the groups give.
struct DirectoryPolicy: Sendable, Equatable {
    var upnSuffix: String
    var userDNTemplate: String
    var techGroup: String
    var teacherGroups: [String]

    /// The name to bind as: `NAME@suffix` for Active Directory, else the template with the
    /// name escaped as a DN value (so `a,ou=admins` cannot change the DN).
    func bindIdentity(_ name: String) -> String {
        if !upnSuffix.isEmpty {
            return name + (upnSuffix.hasPrefix("@") ? upnSuffix : "@" + upnSuffix)
        }
        return userDNTemplate.replacingOccurrencesOfPlaceholder(with: LDAPConnection.escapeDNValue(name))
    }

    /// Finds the user's own entry, the name escaped for a filter: Active Directory's
    /// sAMAccountName or userPrincipalName, or the uid of other servers.
    func searchFilter(_ name: String) -> String {
        let escaped = LDAPConnection.escapeFilterValue(name)
        guard !upnSuffix.isEmpty else { return "(uid=\(escaped))" }
        return
            "(|(sAMAccountName=\(escaped))(userPrincipalName=\(LDAPConnection.escapeFilterValue(bindIdentity(name)))))"
    }

    /// The role the user's groups give: technology staff first, then teacher; nil when in neither.
    func role(memberOf groups: [String]) -> AccountStore.Role? {
        if groups.contains(where: { Self.matches($0, techGroup) }) { return .tech }
        if groups.contains(where: { group in teacherGroups.contains { Self.matches(group, $0) } }) { return .teacher }
        return nil
    }

    /// A group DN matches a configured group given as the whole DN or as its cn, ignoring case
    /// and the spaces around separators.
    static func matches(_ groupDN: String, _ configured: String) -> Bool {
        let wanted = normalizedDN(configured)
        guard !wanted.isEmpty else { return false }
        let dn = normalizedDN(groupDN)
        if dn == wanted { return true }
        guard !wanted.contains("=") else { return false }
        guard let first = dn.split(separator: ",").first, first.hasPrefix("cn=") else { return false }
        return first.dropFirst(3) == Substring(wanted)
    }

    private static func normalizedDN(_ text: String) -> String {
        text.lowercased().split(separator: ",").map { part in
            part.split(separator: "=", maxSplits: 1).map { String($0.trimmingCharacters()) }.joined(separator: "=")
        }.joined(separator: ",")
    }
}

extension String {
    fileprivate func replacingOccurrencesOfPlaceholder(with value: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: "%s") {
            result += rest[..<range.lowerBound] + value
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
