/// The decisions of signing in, without effects: when a session has expired, when it is worth
/// recording that it was used, and when failed sign-ins hold an account or an address back.
/// The stores apply them to rows; the tests drive them with plain numbers.
struct SessionPolicy: Sendable, Equatable {
    /// A session unused for this long ends (seconds).
    var idleTimeout: Int
    /// A session ends this long after sign-in, used or not (seconds).
    var absoluteTimeout: Int
    /// `seen_at` is written at most this often per session, so reading pages does not write:
    /// a minute, or a quarter of a shorter idle timeout.
    var touchInterval: Int { min(60, max(1, idleTimeout / 4)) }

    enum Verdict: Equatable {
        case valid(touch: Bool)
        case expired
    }

    func verdict(createdAt: Int, seenAt: Int, now: Int) -> Verdict {
        if now - createdAt >= absoluteTimeout || now - seenAt >= idleTimeout { return .expired }
        return .valid(touch: now - seenAt >= touchInterval)
    }
}

/// Failed sign-ins per subject (`user:NAME`, `address:IP`): after `limit` failures within
/// `window` seconds the subject waits until the oldest of them leaves the window.
struct ThrottlePolicy: Sendable, Equatable {
    var limit = 10
    var window = 900

    /// Seconds to wait before another try, or nil when a try is allowed now.
    /// `failures` are the times of the subject's failures, any order.
    func wait(failures: [Int], now: Int) -> Int? {
        let recent = failures.filter { now - $0 < window }.sorted()
        guard recent.count >= limit else { return nil }
        let oldestCounted = recent[recent.count - limit]
        return max(1, oldestCounted + window - now)
    }
}

/// Where a sign-in may send the browser afterwards: a path on this site only (`/tags?x=1`),
/// never another site (`//evil.example`, `https://...`, `/\evil`), else the home page.
enum LocalRedirect {
    static func target(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" })
        else { return "/" }
        return next
    }
}
