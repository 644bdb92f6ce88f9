/// A non-negative duration in seconds. Accepts `30`, `0.5`, `500ms`, `2s`, `1m` and `1h`;
/// rendered as a plain number of seconds (`30`, `0.5`), which a config file reads back.
public struct Seconds: SettingValue, Hashable, Comparable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public var value: Double

    public init(_ value: Double) { self.value = value }
    public init(integerLiteral value: Int) { self.value = Double(value) }
    public init(floatLiteral value: Double) { self.value = value }

    /// The same span as a `Duration`, for clocks and sleeps.
    public var duration: Duration { .nanoseconds(Int64((value * 1e9).rounded())) }

    public static var typeName: String { "seconds" }

    public static func parse(_ text: String) -> Result<Seconds, SettingParseFailure> {
        let remedy = "use seconds, like 30 or 0.5, or add a unit: 500ms, 2s, 1m, 1h"
        let trimmed = text.trimmingWhitespace().lowercased()
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = trimmed
        var scale = 1.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = String(trimmed.dropLast(unit.suffix.count)).trimmingWhitespace()
            scale = unit.scale
            break
        }
        guard let amount = Double(number), amount.isFinite else {
            return .failure(SettingParseFailure(reason: "\(text.quoted) is not a duration", remedy: remedy))
        }
        guard amount >= 0 else {
            return .failure(SettingParseFailure(reason: "\(text.quoted) is negative", remedy: remedy))
        }
        return .success(Seconds(amount * scale))
    }

    public var rendered: String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return value.description
    }

    public static func < (lhs: Seconds, rhs: Seconds) -> Bool { lhs.value < rhs.value }
}
