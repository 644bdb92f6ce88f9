/// `ALLOWED_HOSTS`: which `Host` headers the site answers to. Patterns are exact names
/// (`rtutils.example.org`, `127.0.0.1`, `[::1]`), `.example.org` for a domain and all its
/// subdomains, or `*` for any host. Matching ignores case and the port.
struct HostPatterns: Sendable {
    let patterns: [String]

    /// The hosts allowed in debug mode when none are set, as Django does.
    static let debugDefaults = ["localhost", "127.0.0.1", "[::1]"]

    init(_ patterns: [String]) {
        self.patterns = patterns.map { $0.lowercased() }
    }

    static let validate: @Sendable ([String]) -> String? = { patterns in
        for pattern in patterns {
            if pattern == "*" { continue }
            let name = pattern.hasPrefix(".") ? String(pattern.dropFirst()) : pattern
            if name.isEmpty || name.contains("/") || name.contains(" ") || name.hasSuffix(":")
                || (name.contains(":") && !name.hasPrefix("["))
            {
                return "\(pattern) is not a host name pattern (use names like rtutils.example.org, "
                    + ".example.org for a domain and its subdomains, [::1], or *)"
            }
        }
        return nil
    }

    /// The host part of a `Host` header, lowercased and without the port; nil if malformed.
    static func hostName(_ header: String) -> String? {
        let value = header.lowercased()
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            let rest = value[value.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            return String(value[...close])
        }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return nil }
        if parts.count == 2 && !(parts[1].allSatisfy(\.isNumber) && !parts[1].isEmpty) { return nil }
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == "_"
        }
        return allowed ? String(name.hasSuffix(".") ? name.dropLast() : name) : nil
    }

    /// Whether a `Host` header is allowed. With `*`, so is a request without one (HTTP/1.0).
    func allows(_ header: String?) -> Bool {
        guard let header else { return patterns.contains("*") }
        guard let host = HostPatterns.hostName(header) else { return false }
        for pattern in patterns {
            if pattern == "*" || pattern == host { return true }
            if pattern.hasPrefix(".") && (host == pattern.dropFirst() || host.hasSuffix(pattern)) { return true }
        }
        return false
    }
}
