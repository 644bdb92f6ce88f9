/// Reads an HTTP-date (RFC 9110 5.6.7) in any of its three forms, as a recipient must:
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`
/// and asctime `Sun Nov  6 08:49:37 1994`. The weekday is not checked. Returns Unix seconds,
/// or nil for anything else (a conditional request with an invalid date is then unconditional).
public enum HTTPDateParser {
    public static func epochSeconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard let comma = bytes.firstIndex(of: UInt8(ascii: ",")) else { return asctime(bytes) }
        let rest = Array(bytes[(comma + 1)...])
        if comma == 3 { return imfFixdate(rest) }
        return rfc850(rest)
    }

    /// ` 06 Nov 1994 08:49:37 GMT`
    private static func imfFixdate(_ b: [UInt8]) -> Int64? {
        guard b.count == 25, b[0] == 0x20, b[3] == 0x20, b[7] == 0x20, b[12] == 0x20,
            b[21...].elementsEqual(" GMT".utf8),
            let day = number(b[1..<3]), let month = month(b[4..<7]), let year = number(b[8..<12])
        else { return nil }
        return combine(year, month, day, b[13..<21])
    }

    /// ` 06-Nov-94 08:49:37 GMT` (a two-digit year is 19xx or 20xx, whichever is nearer 1970-2069).
    private static func rfc850(_ b: [UInt8]) -> Int64? {
        guard b.count == 23, b[0] == 0x20, b[3] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == 0x20,
            b[19...].elementsEqual(" GMT".utf8), let day = number(b[1..<3]), let month = month(b[4..<7]),
            let shortYear = number(b[8..<10])
        else { return nil }
        return combine(shortYear < 70 ? 2000 + shortYear : 1900 + shortYear, month, day, b[11..<19])
    }

    /// `Sun Nov  6 08:49:37 1994`
    private static func asctime(_ b: [UInt8]) -> Int64? {
        guard b.count == 24, b[3] == 0x20, b[7] == 0x20, b[10] == 0x20, b[19] == 0x20, let month = month(b[4..<7]),
            let day = number(b[8] == 0x20 ? b[9..<10] : b[8..<10]), let year = number(b[20..<24])
        else { return nil }
        return combine(year, month, day, b[11..<19])
    }

    /// `hh:mm:ss` plus the date, validated.
    private static func combine(_ year: Int64, _ month: Int64, _ day: Int64, _ time: ArraySlice<UInt8>) -> Int64? {
        let t = time.startIndex
        guard time[t + 2] == UInt8(ascii: ":"), time[t + 5] == UInt8(ascii: ":"),
            let hour = number(time[t..<t + 2]), let minute = number(time[t + 3..<t + 5]),
            let second = number(time[t + 6..<t + 8]), hour < 24, minute < 60, second <= 60,
            day >= 1, day <= 31
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for byte in digits {
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    private static let months: [[UInt8]] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ].map { Array($0.utf8) }

    private static func month(_ name: ArraySlice<UInt8>) -> Int64? {
        months.firstIndex { $0[...] == name }.map { Int64($0 + 1) }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date; the inverse of `civilFromDays`.
func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}
