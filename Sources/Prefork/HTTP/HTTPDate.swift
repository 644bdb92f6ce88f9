import PreforkCore

/// The `Date:` field, formatted once per second (RFC 9110 IMF-fixdate), without Foundation.
struct HTTPDate {
    private(set) var field: [UInt8] = Array("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n".utf8)
    private var second: Int64 = -1

    mutating func update(realtimeNanos: Int64) {
        let now = realtimeNanos / 1_000_000_000
        guard now != second else { return }
        second = now
        field = Array("Date: \(HTTPDate.format(epochSeconds: now))\r\n".utf8)
    }

    static func format(epochSeconds: Int64) -> String {
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let time = CivilTime(epochSeconds: epochSeconds)
        let weekday = names[time.weekday]
        return "\(weekday), \(pad(time.day)) \(months[time.month - 1]) \(time.year) "
            + "\(pad(time.hour)):\(pad(time.minute)):\(pad(time.second)) GMT"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
