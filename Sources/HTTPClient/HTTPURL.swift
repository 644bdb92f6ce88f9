import PreforkCore

/// An absolute `http://` or `https://` URL, split into what a request needs.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// True for `https`.
    public var isTLS: Bool
    /// A name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// The request target: path and query, never empty (`/` at least), without the fragment.
    public var target: String

    /// Parses `scheme://host[:port][/path][?query][#fragment]`; the host may be `[IPv6]`.
    /// User information (`user:password@`) is refused: credentials belong in headers.
    public init(_ text: String) throws(HTTPClientError) {
        func invalid(_ why: String) -> HTTPClientError {
            HTTPClientError(.invalidURL, endpoint: text, "invalid URL: \(why)")
        }
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            isTLS = false
            rest = text.dropFirst(7)
        } else {
            throw invalid("it must start with http:// or https://")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else { throw invalid("user information (user@host) is not supported") }

        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw invalid("'[' without ']' around the IPv6 address")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after ']'") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw invalid("no host") }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw invalid("port '\(portText)' is not a number from 1 to 65535")
            }
            port = number
        } else {
            port = isTLS ? 443 : 80
        }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("the path has spaces or other characters that must be percent-encoded")
        }
        self.target = target
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// `host:port` as error messages name it (`[::1]:8443`).
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { (isTLS ? "https://" : "http://") + hostHeader + target }

    /// Percent-encodes `text` for use as one query-string name or value (RFC 3986 unreserved
    /// characters stay as they are; everything else, space included, becomes `%XX`).
    public static func percentEncode(_ text: String) -> String {
        PercentEncoding.encode(text)
    }
}
