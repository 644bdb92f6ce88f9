/// A UTC calendar date and time computed from Unix seconds, without Foundation.
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    public var month: Int  // 1...12
    public var day: Int  // 1...31
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int

    public init(epochSeconds: Int64) {
        var days = epochSeconds / 86_400
        var rest = epochSeconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        self.year = Int(year)
        self.month = Int(month)
        self.day = Int(day)
        hour = Int(rest / 3600)
        minute = Int(rest % 3600 / 60)
        second = Int(rest % 60)
        weekday = Int(((days % 7) + 7 + 4) % 7)  // 1970-01-01 was a Thursday
    }
}
