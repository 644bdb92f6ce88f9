import PreforkCore

/// The district's directory (LDAP or Active Directory), section "Directory": the names the
/// original tool's NixOS module declared. Empty `ldap_server` turns directory sign-in off
/// (local accounts only).
enum DirectorySettings {
    static let server = SettingKey<String>(
        "ldap_server", section: "Directory", env: ["LDAP_SERVER"], default: "",
        doc: "The directory's address, ldaps://dc.example.org (or ldap:// with StartTLS); empty: local accounts only.",
        validate: { uri in
            uri.isEmpty || uri.lowercased().hasPrefix("ldaps://") || uri.lowercased().hasPrefix("ldap://")
                ? nil : "must start with ldaps:// (or ldap:// with StartTLS), like ldaps://dc.example.org"
        })
    static let baseDN = SettingKey<String>(
        "ldap_base_dn", section: "Directory", env: ["LDAP_BASE_DN"], default: "",
        doc: "Where users are searched for, like dc=example,dc=org.")
    static let upnSuffix = SettingKey<String>(
        "ldap_upn_suffix", section: "Directory", env: ["LDAP_UPN_SUFFIX"], default: "",
        doc: "Active Directory: users bind as NAME + this suffix, like @example.org.")
    static let userDNTemplate = SettingKey<String>(
        "ldap_user_dn_template", section: "Directory", env: ["LDAP_USER_DN_TEMPLATE"], default: "",
        doc: "Other LDAP servers: the DN users bind as, %s standing for the name, like "
            + "uid=%s,ou=people,dc=example,dc=org (used when ldap_upn_suffix is empty).")
    static let techGroup = SettingKey<String>(
        "ldap_tech_group", section: "Directory", env: ["LDAP_TECH_GROUP"], default: "",
        doc: "The group (its DN, or its cn) whose members are technology staff: everything.")
    static let teacherGroups = SettingKey<[String]>(
        "ldap_teacher_groups", section: "Directory", env: ["LDAP_TEACHER_GROUPS"], default: [],
        doc: "Groups (DNs or cns, comma-separated) whose members are teachers: audits only.")
    static let verifyCertificate = SettingKey<Bool>(
        "ldap_verify_cert", section: "Directory", env: ["LDAP_VERIFY_CERT"], default: true,
        doc: "Check the directory's TLS certificate (turn off only to diagnose; passwords cross this connection).")
    static let caCertificateFile = SettingKey<String>(
        "ldap_ca_cert_file", section: "Directory", env: ["LDAP_CA_CERT_FILE"], default: "",
        doc: "PEM file of the CA that signed the directory's certificate, when the system does not trust it.")
    static let timeout = SettingKey<Seconds>(
        "ldap_timeout", section: "Directory", env: ["LDAP_TIMEOUT"], default: 5,
        doc: "Seconds one sign-in may spend with the directory (connect, TLS, bind, search), below `timeout`.",
        validate: { $0.value > 0 ? nil : "must be more than 0 seconds" })

    static let all: [AnySetting] = [
        server.any, baseDN.any, upnSuffix.any, userDNTemplate.any, techGroup.any, teacherGroups.any,
        verifyCertificate.any, caCertificateFile.any, timeout.any,
    ]

    /// What is missing or contradictory when the directory is on, one line each.
    static func problems(_ configuration: Configuration) -> [ConfigurationError] {
        guard !configuration[server].isEmpty else { return [] }
        var errors: [ConfigurationError] = []
        func missing(_ key: SettingKey<String>, _ what: String) {
            errors.append(
                ConfigurationError(
                    "setting '\(key.name)' (\(key.env.first ?? "")) is empty, and the directory (ldap_server from "
                        + "\(configuration.source(of: server.name))) needs it: \(what)", setting: key.name))
        }
        if configuration[baseDN].isEmpty { missing(baseDN, "where to search for users, like dc=example,dc=org") }
        if configuration[techGroup].isEmpty { missing(techGroup, "the technology staff's group") }
        if configuration[upnSuffix].isEmpty && !configuration[userDNTemplate].contains("%s") {
            errors.append(
                ConfigurationError(
                    "settings 'ldap_upn_suffix' and 'ldap_user_dn_template' are both unset: say how users bind, "
                        + "LDAP_UPN_SUFFIX=@example.org (Active Directory) or "
                        + "LDAP_USER_DN_TEMPLATE=uid=%s,ou=people,dc=example,dc=org", setting: userDNTemplate.name))
        }
        if let problem = AppSettings.belowWorkerTimeout(configuration, timeout, what: "directory") {
            errors.append(problem)
        }
        return errors
    }

    /// The directory policy the settings describe, or nil when the directory is off.
    static func policy(_ configuration: Configuration) -> DirectoryPolicy? {
        guard !configuration[server].isEmpty else { return nil }
        return DirectoryPolicy(
            upnSuffix: configuration[upnSuffix], userDNTemplate: configuration[userDNTemplate],
            techGroup: configuration[techGroup], teacherGroups: configuration[teacherGroups])
    }
}
