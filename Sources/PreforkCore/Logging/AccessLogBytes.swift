// MARK: - Byte-level helpers (no allocation beyond the output buffer)

/// Escaped value, or `-` when nil or empty.
@inline(__always)
func appendValue(_ value: String?, json: Bool = false, to buffer: inout [UInt8]) {
    guard let value, !value.isEmpty else {
        buffer.append(UInt8(ascii: "-"))
        return
    }
    appendEscaped(value, json: json, to: &buffer)
}

@inline(__always)
func appendEscaped(_ value: String, json: Bool = false, to buffer: inout [UInt8]) {
    appendEscaped(value.utf8, json: json, to: &buffer)
}

let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

func appendEscaped<C: Collection>(_ bytes: C, json: Bool = false, to buffer: inout [UInt8])
where C.Element == UInt8 {
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(byte)
        case 0x20..<0x7F:
            buffer.append(byte)
        default:  // controls, DEL, and every non-ASCII byte: `\xHH`, or `\u00HH` in JSON
            buffer.append(UInt8(ascii: "\\"))
            if json {
                buffer.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            } else {
                buffer.append(UInt8(ascii: "x"))
            }
            buffer.append(hexDigits[Int(byte >> 4)])
            buffer.append(hexDigits[Int(byte & 0x0F)])
        }
    }
}

func appendHTTPVersion(_ minor: Int, to buffer: inout [UInt8]) {
    buffer.append(contentsOf: [
        UInt8(ascii: "H"), UInt8(ascii: "T"), UInt8(ascii: "T"), UInt8(ascii: "P"),
        UInt8(ascii: "/"), UInt8(ascii: "1"), UInt8(ascii: "."),
    ])
    appendDecimal(Int64(minor), to: &buffer)
}

func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 {
        buffer.append(UInt8(ascii: "-"))
        // Int64.min has no positive counterpart; go through its magnitude.
        appendUnsigned(value.magnitude, to: &buffer)
    } else {
        appendUnsigned(UInt64(value), to: &buffer)
    }
}

func appendUnsigned(_ value: UInt64, to buffer: inout [UInt8]) {
    var digits = 1
    var probe = value
    while probe >= 10 {
        probe /= 10
        digits += 1
    }
    appendPadded(Int64(bitPattern: value), width: digits, to: &buffer)
}

/// `value` (non-negative, or a bit pattern from `appendUnsigned`) as exactly `width` digits,
/// zero-padded on the left.
func appendPadded(_ value: Int64, width: Int, to buffer: inout [UInt8]) {
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
    var v = UInt64(bitPattern: value)
    var k = start + width - 1
    while k >= start {
        buffer[k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
        v /= 10
        k -= 1
    }
}

let monthNames: [[UInt8]] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
].map { Array($0.utf8) }

/// `[dd/Mon/yyyy:hh:mm:ss +hhmm]` for a Unix time in nanoseconds, in the time zone
/// `offsetSeconds` east of UTC (Gunicorn writes local time).
func appendCommonLogTime(nanos: Int64, offsetSeconds: Int = 0, to buffer: inout [UInt8]) {
    var (seconds, _) = floorDivMod(nanos, 1_000_000_000)
    seconds += Int64(offsetSeconds)
    let (days, secondOfDay) = floorDivMod(seconds, 86_400)
    let (year, month, day) = civilFromDays(days)

    buffer.append(UInt8(ascii: "["))
    appendPadded(day, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: "/"))
    buffer.append(contentsOf: monthNames[Int(month) - 1])
    buffer.append(UInt8(ascii: "/"))
    if year < 0 {
        buffer.append(UInt8(ascii: "-"))
        appendPadded(-year, width: 4, to: &buffer)
    } else if year > 9999 {
        appendDecimal(year, to: &buffer)
    } else {
        appendPadded(year, width: 4, to: &buffer)
    }
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay / 3600, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay / 60 % 60, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay % 60, width: 2, to: &buffer)
    buffer.append(contentsOf: [UInt8(ascii: " "), offsetSeconds < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")])
    let minutes = Int64(abs(offsetSeconds) / 60)
    appendPadded(minutes / 60, width: 2, to: &buffer)
    appendPadded(minutes % 60, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: "]"))
}

@inline(__always)
func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    var q = a / b
    var r = a % b
    if r < 0 {
        q -= 1
        r += b
    }
    return (q, r)
}

/// Proleptic Gregorian (year, month 1...12, day 1...31) from days since 1970-01-01.
/// Eras of 400 years (146 097 days) starting on March 1st, so the leap day is the last day
/// of its "year" and the month lengths before it are fixed.
func civilFromDays(_ daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = daysSinceEpoch + 719_468  // days since 0000-03-01
    let era = floorDivMod(z, 146_097).0
    let dayOfEra = z - era * 146_097  // 0...146096
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365
    let mp = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
}
