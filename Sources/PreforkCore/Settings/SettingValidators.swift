/// Reusable validators and the hints that go with them, for server and application settings.
/// Each validator returns the reason a value is unacceptable, including what to do, or nil.
public enum SettingValidators {
    /// "use a whole number from 1 to 1024"
    public static func rangeHint(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max
            ? "use a whole number, \(range.lowerBound) or more"
            : "use a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// Accepts whole numbers in `range`: "must be at least 1 (use a whole number from 1 to 1024)".
    public static func range(_ range: ClosedRange<Int>, hint: String? = nil) -> @Sendable (Int) -> String? {
        let hint = hint ?? rangeHint(range)
        return { value in
            if value < range.lowerBound { return "must be at least \(range.lowerBound), not \(value) (\(hint))" }
            if value > range.upperBound { return "must be at most \(range.upperBound), not \(value) (\(hint))" }
            return nil
        }
    }

    /// Accepts whole numbers from `minimum` up.
    public static func atLeast(_ minimum: Int, hint: String? = nil) -> @Sendable (Int) -> String? {
        range(minimum...Int.max, hint: hint)
    }

    /// Accepts modes up to `maximum` (0o777 for permission bits).
    public static func mode(atMost maximum: UInt32) -> @Sendable (OctalMode) -> String? {
        { mode in
            mode.value <= maximum
                ? nil : "\(mode.rendered) is more than \(OctalMode(maximum).rendered) (use permission bits, like 0o022)"
        }
    }

    /// Every entry must be an address to listen on: `HOST:PORT`, `[IPv6]:PORT`, `unix:PATH` or `fd://N`.
    public static let listenAddresses: @Sendable ([String]) -> String? = { addresses in
        let hint = "use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N"
        if addresses.isEmpty { return "needs at least one address (\(hint))" }
        for address in addresses {
            if let problem = listenAddressProblem(address) { return "\(address.quoted) \(problem) (\(hint))" }
        }
        return nil
    }

    /// Every entry must be an IPv4 or IPv6 address, a CIDR block of either, or `*`.
    public static let addressPatterns: @Sendable ([String]) -> String? = { patterns in
        for pattern in patterns where !isAddressPattern(pattern) {
            return "\(pattern.quoted) is not an IP address or CIDR block (use addresses like 10.0.0.1, ::1, "
                + "10.0.0.0/8, fd00::/8, or * to trust every peer)"
        }
        return nil
    }

    /// Why `address` is not a listen address, or nil if it is one.
    static func listenAddressProblem(_ address: String) -> String? {
        if address.hasPrefix("unix:") {
            return address.count > 5 ? nil : "has no socket path"
        }
        if address.hasPrefix("fd://") {
            guard let fd = Int(address.dropFirst(5)), fd >= 0 else { return "is not fd:// and a descriptor number" }
            return nil
        }
        let host: Substring
        let port: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { return "has no closing ]" }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            guard rest.hasPrefix(":") else { return "has no :PORT after the IPv6 address" }
            port = rest.dropFirst()
            guard IPAddressText.ipv6(host) != nil else { return "has no valid IPv6 address in [ ]" }
        } else {
            guard let colon = address.lastIndex(of: ":") else { return "has no port" }
            host = address[..<colon]
            port = address[address.index(after: colon)...]
            if host.contains(":") { return "looks like an IPv6 address without brackets" }
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" })
            else { return "has no valid host name" }
        }
        guard let number = Int(port), (0...65535).contains(number), port.allSatisfy(\.isNumber) else {
            return "has no port from 0 to 65535"
        }
        return nil
    }

    static func isAddressPattern(_ pattern: String) -> Bool {
        if pattern == "*" { return true }
        let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = parts[0]
        let bits: Int
        if IPAddressText.ipv4(address) != nil {
            bits = 32
        } else if IPAddressText.ipv6(address) != nil {
            bits = 128
        } else {
            return false
        }
        guard parts.count == 2 else { return true }
        guard let prefix = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else { return false }
        return (0...bits).contains(prefix)
    }
}

/// Textual IP addresses, parsed without the C library so the settings stay pure.
enum IPAddressText {
    /// Dotted-quad IPv4: four decimal numbers 0-255.
    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ ("0"..."9").contains($0) }),
                let byte = UInt8(part)
            else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// IPv6 in its textual forms: eight hex groups, `::` for a run of zeros, an IPv4 tail.
    static func ipv6(_ text: Substring) -> [UInt16]? {
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (offset, piece) in pieces.enumerated() {
                if allowIPv4Tail, offset == pieces.count - 1, piece.contains("."), let v4 = ipv4(piece) {
                    result += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                    let group = UInt16(piece, radix: 16)
                else { return nil }
                result.append(group)
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
            head.count + tail.count <= 7
        else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}

extension Substring {
    /// Splits at `::` (at most the first two occurrences matter; more than one is invalid IPv6).
    fileprivate func components(separatedByDoubleColon: ()) -> [Substring] {
        var parts: [Substring] = []
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            let next = self.index(after: index)
            if self[index] == ":", next < endIndex, self[next] == ":" {
                parts.append(self[start..<index])
                start = self.index(after: next)
                index = start
            } else {
                index = next
            }
        }
        parts.append(self[start..<endIndex])
        return parts
    }
}
