/// Keeps a worker from writing the same database failure for every request while the database
/// is down: the first failure is logged, then at most one line per `interval` seconds, which
/// says how many were not logged since. A worker serves one request at a time, so nothing here
/// is locked.
final class ErrorLogThrottle: @unchecked Sendable {
    let interval: Int
    private var lastLoggedAt: Int?
    private var suppressed = 0

    init(interval: Int = 10) { self.interval = interval }

    /// The line to log for a failure at `now` (seconds), or nil to stay quiet.
    func line(_ message: String, now: Int) -> String? {
        if let last = lastLoggedAt, now - last < interval {
            suppressed += 1
            return nil
        }
        let note =
            suppressed > 0
            ? " (and \(suppressed) more database errors in the last \(now - (lastLoggedAt ?? now))s)" : ""
        lastLoggedAt = now
        suppressed = 0
        return message + note
    }
}
