#if canImport(Glibc)
    import Glibc
#endif

/// The proxies whose `X-Forwarded-*` headers are believed (`forwarded_allow_ips`): addresses,
/// CIDR networks, or `*` for any peer.
public struct ProxyTrust: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        var bytes: [UInt8]  // 4 or 16
        var prefix: Int
    }

    var any: Bool
    var networks: [Network]

    /// Parses the entries; the error names the entry and the accepted forms.
    public static func parse(_ entries: [String]) -> Result<ProxyTrust, ProxyTrustError> {
        var trust = ProxyTrust(any: false, networks: [])
        for raw in entries {
            let entry = raw.trimmingSpaces
            if entry.isEmpty { continue }
            if entry == "*" {
                trust.any = true
                continue
            }
            var addressText = Substring(entry)
            var prefix: Int?
            if let slash = entry.firstIndex(of: "/") {
                addressText = entry[..<slash]
                guard let bits = Int(entry[entry.index(after: slash)...]) else {
                    return .failure(.init("\"\(entry)\" has a bad prefix length (use ADDRESS/BITS)"))
                }
                prefix = bits
            }
            guard let bytes = ProxyTrust.addressBytes(String(addressText)) else {
                return .failure(
                    .init(
                        "\"\(entry)\" is not an IP address or CIDR network (use e.g. 127.0.0.1, 10.0.0.0/8, ::1 or *)"))
            }
            let maximum = bytes.count * 8
            let bits = prefix ?? maximum
            guard bits >= 0 && bits <= maximum else {
                return .failure(.init("\"\(entry)\": prefix length must be 0 to \(maximum)"))
            }
            trust.networks.append(Network(bytes: bytes, prefix: bits))
        }
        return .success(trust)
    }

    public static let loopback = try! ProxyTrust.parse(["127.0.0.1", "::1"]).get()

    /// Whether `address` (textual IPv4/IPv6) is a trusted proxy. Unix-socket peers (empty
    /// address) are trusted: only local processes can reach them.
    public func trusts(_ address: String) -> Bool {
        if any { return true }
        if address.isEmpty || address.hasPrefix("unix") { return true }
        guard var bytes = ProxyTrust.addressBytes(address) else { return false }
        // An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is matched as IPv4.
        if bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            bytes = Array(bytes[12..<16])
        }
        return networks.contains { $0.contains(bytes) }
    }

    /// The client address from an `X-Forwarded-For` value: the right-most address that is not
    /// itself a trusted proxy (each proxy appends the address it saw), so a client cannot
    /// forge its address by sending the header itself.
    public func clientAddress(forwardedFor value: String) -> String? {
        let hops = value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trusts(hop) {
            return ProxyTrust.addressBytes(hop) != nil ? hop : nil
        }
        return hops.first
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

extension ProxyTrust.Network {
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = prefix
        for i in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[i] & mask != bytes[i] & mask { return false }
            remaining -= bits
        }
        return true
    }
}

public struct ProxyTrustError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
