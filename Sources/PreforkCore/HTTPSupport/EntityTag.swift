/// Entity tags (RFC 9110 8.8.3) for files, and the comparisons conditional requests use.
public enum EntityTag {
    /// A strong tag from a file's identity and version: `"<inode>-<size>-<mtime ns>"` in hex.
    /// Any write that changes the size or the modification time, and any replacement of the
    /// file (a new inode, as collectstatic's write-and-rename makes), changes the tag.
    public static func forFile(inode: UInt64, size: Int, modifiedNanos: Int64) -> String {
        "\"\(String(inode, radix: 16))-\(String(size, radix: 16))-\(String(UInt64(bitPattern: modifiedNanos), radix: 16))\""
    }

    /// `If-None-Match` (RFC 9110 13.1.2): true when the field is `*` or lists a tag that matches
    /// `current` by the weak comparison (`W/` prefixes ignored). A malformed list matches
    /// only as far as it could be read.
    public static func ifNoneMatchMatches(_ field: String, current: String) -> Bool {
        let trimmed = field.utf8.drop { $0 == 0x20 || $0 == 0x09 }
        if trimmed.first == UInt8(ascii: "*") { return true }
        let wanted = opaque(current)
        for tag in list(field) where tag.opaque == wanted { return true }
        return false
    }

    /// `If-Range` with an entity tag (RFC 9110 13.1.5): true only for a strong tag equal to
    /// `current` (strong comparison: a weak tag never matches).
    public static func ifRangeMatches(_ field: String, current: String) -> Bool {
        let tags = list(field)
        guard tags.count == 1, !tags[0].weak else { return false }
        return tags[0].opaque == opaque(current)
    }

    /// The entity tags of a comma-separated list, each as its quoted opaque part.
    static func list(_ field: String) -> [(weak: Bool, opaque: ArraySlice<UInt8>)] {
        let bytes = Array(field.utf8)
        var result: [(weak: Bool, opaque: ArraySlice<UInt8>)] = []
        var i = 0
        while i < bytes.count {
            while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == UInt8(ascii: ",")) { i += 1 }
            guard i < bytes.count else { break }
            var weak = false
            if bytes[i] == UInt8(ascii: "W") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "/") {
                weak = true
                i += 2
            }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { break }
            let start = i
            i += 1
            while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += 1 }
            guard i < bytes.count else { break }
            i += 1
            result.append((weak, bytes[start..<i]))
        }
        return result
    }

    private static func opaque(_ tag: String) -> ArraySlice<UInt8> {
        let bytes = Array(tag.utf8)[...]
        return bytes.starts(with: "W/".utf8) ? bytes.dropFirst(2) : bytes
    }
}
