/// Byte classes from RFC 9110/9112, as branch-light bit tests (no tables to load lazily, no
/// bounds checks). Shared by the head parser, the field iterator and the chunked decoder.
@usableFromInline
enum HTTPByte {
    @usableFromInline static let cr: UInt8 = 0x0D
    @usableFromInline static let lf: UInt8 = 0x0A
    @usableFromInline static let sp: UInt8 = 0x20
    @usableFromInline static let htab: UInt8 = 0x09
    @usableFromInline static let colon: UInt8 = 0x3A
    @usableFromInline static let question: UInt8 = 0x3F
    @usableFromInline static let semicolon: UInt8 = 0x3B
    @usableFromInline static let comma: UInt8 = 0x2C
    @usableFromInline static let slash: UInt8 = 0x2F
    @usableFromInline static let dquote: UInt8 = 0x22
    @usableFromInline static let backslash: UInt8 = 0x5C

    /// tchar (RFC 9110 5.6.2) bits for bytes 0..<64 and 64..<128:
    /// "!#$%&'*+-.^_`|~", DIGIT and ALPHA.
    @usableFromInline static let tcharLow: UInt64 = 0x03FF_6CFA_0000_0000
    @usableFromInline static let tcharHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inlinable @inline(__always)
    static func isTchar(_ b: UInt8) -> Bool {
        if b < 64 { return (tcharLow &>> UInt64(b)) & 1 != 0 }
        if b < 128 { return (tcharHigh &>> UInt64(b &- 64)) & 1 != 0 }
        return false
    }

    /// field-vchar / SP / HTAB / obs-text: anything but CTLs (0x00-0x1F except HTAB) and DEL.
    @inlinable @inline(__always)
    static func isFieldValueByte(_ b: UInt8) -> Bool {
        b >= 0x20 ? b != 0x7F : b == htab
    }

    /// Request-target bytes: visible US-ASCII (0x21-0x7E).
    @inlinable @inline(__always)
    static func isTargetByte(_ b: UInt8) -> Bool {
        b &- 0x21 < 0x5E
    }

    @inlinable @inline(__always)
    static func isOWS(_ b: UInt8) -> Bool {
        b == sp || b == htab
    }

    /// Hex digit value, or nil.
    @inlinable @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        if b &- 0x30 < 10 { return Int(b &- 0x30) }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return Int(lower &- 0x61) &+ 10 }
        return nil
    }

    // SWAR helpers: eight bytes at a time.
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// True if any byte of `x` is below `n` (n <= 128).
    @inlinable @inline(__always)
    static func anyByteBelow(_ x: UInt64, _ n: UInt8) -> Bool {
        (x &- ones &* UInt64(n)) & ~x & highs != 0
    }

    /// True if any byte of `x` equals `b`.
    @inlinable @inline(__always)
    static func anyByteEquals(_ x: UInt64, _ b: UInt8) -> Bool {
        let y = x ^ (ones &* UInt64(b))
        return (y &- ones) & ~y & highs != 0
    }

    /// Compares `count` bytes at `p` with the lowercase ASCII `lowercased`, ignoring ASCII case
    /// in `p`. Only valid for already validated tchar or field-value bytes: among those, `| 0x20`
    /// maps only the upper-case letters onto other bytes of `lowercased` (CR would map onto '-',
    /// control bytes onto digits, but neither can occur in a validated name or value).
    @inlinable @inline(__always)
    static func equalsLowercased(_ p: UnsafePointer<UInt8>, _ count: Int, _ lowercased: StaticString) -> Bool {
        guard count == lowercased.utf8CodeUnitCount else { return false }
        let q = lowercased.utf8Start
        var i = 0
        while i < count {
            if p[i] | 0x20 != q[i] { return false }
            i &+= 1
        }
        return true
    }
}
