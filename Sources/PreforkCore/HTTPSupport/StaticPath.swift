/// The file a static-file URL names, checked before anything touches the file system.
public enum StaticPath {
    /// Splits the still percent-encoded part of a URL path after the mount prefix into decoded
    /// segments, or nil when it must not be served. Rejected: an empty path, an empty segment
    /// (`a//b`, a trailing `/`, a leading `/`), a segment that starts with `.` (`.`, `..`,
    /// dotfiles such as `.env`), and a decoded NUL, `/` (`%2F`) or `\`, and a malformed
    /// percent escape. Decoding happens per segment, after splitting, so `%2e%2e` is `..` and
    /// rejected, and `..%2Fx` cannot become two segments.
    public static func segments(_ encoded: some StringProtocol) -> [[UInt8]]? {
        let bytes = Array(encoded.utf8)
        guard !bytes.isEmpty else { return nil }
        var result: [[UInt8]] = []
        for part in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let segment = decode(part), isServable(segment) else { return nil }
            result.append(segment)
        }
        return result
    }

    /// Whether `name` (a file's last path segment) is content-hashed as collectstatic names
    /// files: `name.<12 lowercase hex digits>.ext`, e.g. `app.3f2a9c1b7d4e.css`, with a
    /// non-empty name and extension.
    public static func isContentHashed(_ name: some StringProtocol) -> Bool {
        let parts = name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count >= 3, !parts[0].isEmpty, !parts[parts.count - 1].isEmpty else { return false }
        let hash = parts[parts.count - 2]
        return hash.count == 12 && hash.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func isServable(_ segment: [UInt8]) -> Bool {
        guard let first = segment.first, first != UInt8(ascii: ".") else { return false }
        return !segment.contains { $0 == 0 || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }
    }

    private static func decode(_ part: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(part.count)
        var i = part.startIndex
        while i < part.endIndex {
            let byte = part[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < part.endIndex,
                    let high = FormDecoding.hexValue(part[i + 1]), let low = FormDecoding.hexValue(part[i + 2])
                else { return nil }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }
}
