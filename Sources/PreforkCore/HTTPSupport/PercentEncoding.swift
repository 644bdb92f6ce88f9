/// Percent-encoding of one URL component (a query name or value, a path segment): RFC 3986's
/// unreserved characters stay, every other byte becomes `%XX` (uppercase hex). The result is
/// safe in a URL component and in HTML alike. Used by the HTML writer (`\(percentEncoded:)`)
/// and by the application (links to RT and to its own pages).
public enum PercentEncoding {
    /// RFC 3986's unreserved characters: the only bytes an encoded component keeps.
    @inline(__always)
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// How many bytes `encode(_:into:)` writes for `input`.
    public static func encodedCount(_ input: UnsafeRawBufferPointer) -> Int {
        var count = input.count
        for byte in input where !isUnreserved(byte) { count += 2 }
        return count
    }

    /// Writes `input` encoded to `out`, which has room for `encodedCount(input)` bytes; returns
    /// the number written.
    public static func encode(_ input: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        for byte in input {
            if isUnreserved(byte) {
                out[written] = byte
                written += 1
            } else {
                out[written] = UInt8(ascii: "%")
                out[written + 1] = hexDigit(byte >> 4)
                out[written + 2] = hexDigit(byte & 0xF)
                written += 3
            }
        }
        return written
    }

    /// `text` encoded; the text itself when nothing needs encoding (most tags and ids).
    public static func encode(_ text: String) -> String {
        guard !text.utf8.allSatisfy(isUnreserved) else { return text }
        var text = text
        return text.withUTF8 { input in
            let raw = UnsafeRawBufferPointer(input)
            return String(unsafeUninitializedCapacity: encodedCount(raw)) { out in
                encode(raw, into: out.baseAddress!)
            }
        }
    }

    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 48 + value : 55 + value }
}
