#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time for records: UTC timestamps for storage, the server's local date for
/// "the same day" (set TZ, or /etc/localtime, to the district's zone).
struct Timestamp: Sendable {
    let seconds: Int

    static func now() -> Timestamp { Timestamp(seconds: time(nil)) }

    /// `2026-11-21T14:03:09Z`
    var iso8601: String {
        let t = broken(utc: true)
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday))T"
            + "\(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec))Z"
    }

    /// The local calendar date: `2026-11-21`.
    var localDate: String {
        let t = broken(utc: false)
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday))"
    }

    /// Local date and time for file names: `20261121-140309`.
    var localFileStamp: String {
        let t = broken(utc: false)
        return "\(pad(t.tm_year + 1900, 4))\(pad(t.tm_mon + 1))\(pad(t.tm_mday))-"
            + "\(pad(t.tm_hour))\(pad(t.tm_min))\(pad(t.tm_sec))"
    }

    /// The local time of day: `14:03`.
    var localTime: String {
        let t = broken(utc: false)
        return "\(pad(t.tm_hour)):\(pad(t.tm_min))"
    }

    /// The local time of day of a stored `iso8601` UTC timestamp; the text itself if it is not one.
    static func localTime(ofISO text: String) -> String {
        Timestamp(iso8601: text)?.localTime ?? text
    }

    private func broken(utc: Bool) -> tm {
        var value = time_t(seconds)
        var result = tm()
        if utc { gmtime_r(&value, &result) } else { localtime_r(&value, &result) }
        return result
    }

    private func pad(_ value: Int32, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

extension Timestamp {
    /// A stored `iso8601` UTC timestamp (`2026-11-21T14:03:09Z`).
    init?(iso8601 text: String) {
        guard var t = Self.fields(text) else { return nil }
        self.init(seconds: Int(timegm(&t)))
    }

    /// A date and time in this machine's time zone (`2025-10-08T14:23:45.123456`, fractions
    /// ignored), as Python's `isoformat()` writes it.
    init?(local text: String) {
        guard var t = Self.fields(text) else { return nil }
        t.tm_isdst = -1
        let value = mktime(&t)
        guard value != -1 else { return nil }
        self.init(seconds: Int(value))
    }

    /// Year, month, day, hour, minute and second of `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z]`.
    private static func fields(_ text: String) -> tm? {
        let main = text.split(separator: ".", maxSplits: 1).first.map(String.init) ?? text
        let parts = main.split(whereSeparator: { "-T: Z".contains($0) }).compactMap { Int32($0) }
        guard parts.count == 6 else { return nil }
        var t = tm()
        t.tm_year = parts[0] - 1900
        t.tm_mon = parts[1] - 1
        t.tm_mday = parts[2]
        t.tm_hour = parts[3]
        t.tm_min = parts[4]
        t.tm_sec = parts[5]
        return t
    }
}
