extension LDAPConnection {
    /// `value` made safe to put between `=` and `)` in a search filter (RFC 4515 3): `*`, `(`,
    /// `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`; everything else, non-ASCII
    /// included, is kept.
    public static func escapeFilterValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": escaped += "\\2a"
            case "(": escaped += "\\28"
            case ")": escaped += "\\29"
            case "\\": escaped += "\\5c"
            case "\0": escaped += "\\00"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// `value` made safe as an attribute value in a DN (RFC 4514 2.4), e.g. the user name put
    /// into a DN template `uid=%s,ou=people,dc=example,dc=org`: `"`, `+`, `,`, `;`, `<`, `>`,
    /// `\` and `=` get a backslash, as do a leading space or `#` and a trailing space; NUL
    /// becomes `\00`.
    public static func escapeDNValue(_ value: String) -> String {
        var escaped = ""
        let scalars = Array(value.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            switch scalar {
            case "\"", "+", ",", ";", "<", ">", "\\", "=": escaped += "\\" + String(scalar)
            case "\0": escaped += "\\00"
            case " " where index == 0 || index == scalars.count - 1: escaped += "\\ "
            case "#" where index == 0: escaped += "\\#"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
