import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one structured entry to journald with `sd_journal_sendv`.
public enum JournalWriter {
    /// Sends `fields` (already-normalised names) as one entry; returns false if journald
    /// refused it (the caller falls back to stderr).
    @discardableResult
    public static func send(_ fields: [(name: String, value: String)]) -> Bool {
        var lines: [[UInt8]] = []
        lines.reserveCapacity(fields.count)
        for (name, value) in fields {
            var bytes = Array(name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: value.utf8)  // journald accepts newlines in values
            lines.append(bytes)
        }
        return withIOVecs(lines) { vectors in
            sd_journal_sendv(vectors.baseAddress, Int32(vectors.count)) >= 0
        }
    }

    private static func withIOVecs<T>(_ lines: [[UInt8]], _ body: (UnsafeBufferPointer<iovec>) -> T) -> T {
        var vectors: [iovec] = []
        vectors.reserveCapacity(lines.count)
        func build(_ index: Int) -> T {
            if index == lines.count { return vectors.withUnsafeBufferPointer(body) }
            return lines[index].withUnsafeBytes { raw in
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count))
                return build(index + 1)
            }
        }
        return build(0)
    }
}
