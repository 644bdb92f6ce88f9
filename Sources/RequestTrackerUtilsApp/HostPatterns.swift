/// `ALLOWED_HOSTS`: which `Host` headers the site answers to. Patterns are exact names
/// (`rtutils.example.org`, `127.0.0.1`, `[::1]`), `.example.org` for a domain and all its
/// subdomains, or `*` for any host. Matching ignores case and the port. It runs on every
/// request, so it compares UTF-8 bytes in place and allocates nothing.
struct HostPatterns: Sendable {
    /// Exact names and domain suffixes (with their leading dot), lowercased.
    private let exact: [[UInt8]]
    private let suffixes: [[UInt8]]
    private let anyHost: Bool

    /// The hosts allowed in debug mode when none are set, as Django does.
    static let debugDefaults = ["localhost", "127.0.0.1", "[::1]"]

    init(_ patterns: [String]) {
        let lowered = patterns.map { Array($0.lowercased().utf8) }
        anyHost = patterns.contains("*")
        exact = lowered.filter { $0.first != UInt8(ascii: ".") && $0 != [UInt8(ascii: "*")] }
        suffixes = lowered.filter { $0.first == UInt8(ascii: ".") }
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

    /// Whether a `Host` header is allowed. With `*`, so is a request without one (HTTP/1.0).
    func allows(_ header: String?) -> Bool {
        guard var header else { return anyHost }
        return header.withUTF8 { bytes in
            guard let host = Self.hostRange(bytes) else { return false }
            if anyHost { return true }
            for name in exact where Self.equalIgnoringCase(bytes, host, name) { return true }
            for suffix in suffixes {
                // ".example.org" allows example.org and any name ending in .example.org
                let bare = suffix.count - 1
                if host.count == bare && Self.equalIgnoringCase(bytes, host, suffix, from: 1) { return true }
                if host.count > suffix.count
                    && Self.equalIgnoringCase(bytes, (host.upperBound - suffix.count)..<host.upperBound, suffix)
                {
                    return true
                }
            }
            return false
        }
    }

    /// The host part of a `Host` value (without the port and a trailing dot), or nil when the
    /// value is not `name[:port]` or `[v6]:port`.
    static func hostRange(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard !bytes.isEmpty else { return nil }
        var end: Int
        let hostEnd: Int
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            for index in 1..<close where !isHexOrColon(bytes[index]) { return nil }
            end = close + 1
            hostEnd = end
        } else {
            end = 0
            while end < bytes.count && bytes[end] != UInt8(ascii: ":") {
                guard isNameByte(bytes[end]) else { return nil }
                end += 1
            }
            hostEnd = end > 0 && bytes[end - 1] == UInt8(ascii: ".") ? end - 1 : end
            guard hostEnd > 0 else { return nil }
        }
        if end < bytes.count {
            guard bytes[end] == UInt8(ascii: ":"), end + 1 < bytes.count else { return nil }
            end += 1
            while end < bytes.count {
                guard (48...57).contains(bytes[end]) else { return nil }
                end += 1
            }
        }
        return 0..<hostEnd
    }

    /// RFC 3986's reg-name: unreserved (letters, digits, `-._~`), sub-delims (`!$&'()*+,;=`)
    /// and `%` of pct-encoded, so `0.0.0.0=5000` is a name (what some clients send) and not a 400.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte)
            || Self.otherNameBytes.contains(byte)
    }

    private static let otherNameBytes: Set<UInt8> = Set("-._~!$&'()*+,;=%".utf8)

    private static func isHexOrColon(_ byte: UInt8) -> Bool {
        (48...58).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte) || byte == 46
    }

    private static func equalIgnoringCase(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lowered: [UInt8], from start: Int = 0
    ) -> Bool {
        guard range.count == lowered.count - start else { return false }
        var index = start
        for position in range {
            var byte = bytes[position]
            if (65...90).contains(byte) { byte |= 0x20 }
            if byte != lowered[index] { return false }
            index += 1
        }
        return true
    }
}
