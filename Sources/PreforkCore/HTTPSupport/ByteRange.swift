/// What a `Range` request field asks of a representation of `size` bytes (RFC 9110 14.2).
///
/// Only a single range is honoured. A field that is not a well-formed `bytes` range set, or
/// that asks for several ranges, is ignored and the whole representation is sent with 200:
/// RFC 9110 14.2 lets a server ignore `Range`, and one response is simpler and safer than a
/// `multipart/byteranges` body (several overlapping ranges are a known amplification trick).
public enum ByteRangeSelection: Equatable, Sendable {
    /// Send the whole representation with 200.
    case whole
    /// Send these bytes (never empty, within the representation) with 206.
    case partial(ClosedRange<Int>)
    /// Answer 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Interprets a `Range` field value for a representation of `size` bytes.
    public static func select(rangeField value: String, size: Int) -> ByteRangeSelection {
        guard let spec = ByteRangeSpec.parseSingle(value) else { return .whole }
        return spec.resolve(size: size)
    }
}

/// One range-spec of a `bytes=` range set: `first-last`, `first-` or `-suffix`.
public enum ByteRangeSpec: Equatable, Sendable {
    case closed(first: Int, last: Int)
    case from(first: Int)
    case suffix(length: Int)

    /// Parses `bytes=<one range-spec>` (unit case-insensitive, OWS around the element).
    /// Nil for anything else: another unit, bad syntax, `last < first`, or more than one range.
    public static func parseSingle(_ value: String) -> ByteRangeSpec? {
        var bytes = Array(value.utf8)[...]
        let unit = Array("bytes=".utf8)
        guard bytes.count > unit.count else { return nil }
        for (offset, expected) in unit.enumerated() {
            var byte = bytes[bytes.startIndex + offset]
            if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
            guard byte == expected else { return nil }
        }
        bytes = bytes.dropFirst(unit.count)
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let firstDigits = bytes[..<dash]
        let lastDigits = bytes[(dash + 1)...]
        if firstDigits.isEmpty {
            guard let length = decimal(lastDigits) else { return nil }
            return .suffix(length: length)
        }
        guard let first = decimal(firstDigits) else { return nil }
        if lastDigits.isEmpty { return .from(first: first) }
        guard let last = decimal(lastDigits), last >= first else { return nil }
        return .closed(first: first, last: last)
    }

    /// The bytes this spec selects of a representation of `size` bytes (RFC 9110 14.1.2):
    /// `last` beyond the end is clamped; a first byte at or past the end, a zero-length suffix
    /// or an empty representation is unsatisfiable.
    public func resolve(size: Int) -> ByteRangeSelection {
        guard size > 0 else { return .unsatisfiable }
        switch self {
        case .closed(let first, let last):
            return first < size ? .partial(first...min(last, size - 1)) : .unsatisfiable
        case .from(let first):
            return first < size ? .partial(first...(size - 1)) : .unsatisfiable
        case .suffix(let length):
            return length > 0 ? .partial(max(0, size - length)...(size - 1)) : .unsatisfiable
        }
    }

    /// 1*DIGIT; nil when empty, not digits, or past Int.max.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
        }
        return value
    }
}
