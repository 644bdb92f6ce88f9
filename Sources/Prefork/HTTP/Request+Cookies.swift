import PreforkCore

extension Request {
    private static let cookieField = Array("cookie".utf8)

    /// The value of the first cookie called `name` in the request's `Cookie` header fields
    /// (RFC 6265 `name=value` pairs separated by `;`), with surrounding spaces and one pair of
    /// double quotes removed; nil when there is none. Scans the head's bytes: no splitting into
    /// strings, only the value found is made a `String`.
    public func cookie(_ name: String) -> String? {
        guard !name.isEmpty else { return nil }
        var name = name
        return name.withUTF8 { wanted in
            head.withUnsafeBytes { bytes in
                var fields = parsed.fields(in: bytes)
                while let field = fields.next() {
                    guard asciiCaseInsensitiveEqual(bytes, field.name, Self.cookieField) else { continue }
                    if let value = CookieScanner.value(of: UnsafeRawBufferPointer(wanted), in: bytes, field.value) {
                        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value]), as: UTF8.self)
                    }
                }
                return nil
            }
        }
    }
}

/// Finds a cookie's value in a `Cookie` field value, by byte ranges.
enum CookieScanner {
    /// The range of the value of the first pair named `name` within `range` of `bytes`.
    static func value(of name: UnsafeRawBufferPointer, in bytes: UnsafeRawBufferPointer, _ range: Range<Int>)
        -> Range<Int>?
    {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            while end < range.upperBound && bytes[end] != UInt8(ascii: ";") { end += 1 }
            if let value = pair(name, bytes, trimmed(bytes, start..<end)) { return value }
            start = end + 1
        }
        return nil
    }

    /// The value's range when `part` (one `name=value`) has the wanted name.
    private static func pair(_ name: UnsafeRawBufferPointer, _ bytes: UnsafeRawBufferPointer, _ part: Range<Int>)
        -> Range<Int>?
    {
        guard part.count > name.count, bytes[part.lowerBound + name.count] == UInt8(ascii: "=") else { return nil }
        for offset in 0..<name.count where bytes[part.lowerBound + offset] != name[offset] { return nil }
        var value = trimmed(bytes, (part.lowerBound + name.count + 1)..<part.upperBound)
        if value.count >= 2 && bytes[value.lowerBound] == UInt8(ascii: "\"")
            && bytes[value.upperBound - 1] == UInt8(ascii: "\"")
        {
            value = (value.lowerBound + 1)..<(value.upperBound - 1)
        }
        return value
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && (bytes[lower] == 0x20 || bytes[lower] == 0x09) { lower += 1 }
        while upper > lower && (bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09) { upper -= 1 }
        return lower..<upper
    }
}
