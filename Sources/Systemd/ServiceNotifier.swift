import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// One `sd_notify` state assignment (`READY=1`, `STATUS=...`).
public enum NotifyState: Sendable, Equatable {
    case ready
    case reloading(monotonicMicros: UInt64)
    case stopping
    case status(String)
    case mainPID(Int32)
    case watchdog
    case extendTimeout(micros: UInt64)

    /// The `KEY=value` line; newlines in a status are replaced, as each line is one assignment.
    public var line: String {
        switch self {
        case .ready: return "READY=1"
        case .reloading(let micros): return "RELOADING=1\nMONOTONIC_USEC=\(micros)"
        case .stopping: return "STOPPING=1"
        case .status(let text):
            return "STATUS=" + String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        case .mainPID(let pid): return "MAINPID=\(pid)"
        case .watchdog: return "WATCHDOG=1"
        case .extendTimeout(let micros): return "EXTEND_TIMEOUT_USEC=\(micros)"
        }
    }

    /// The whole datagram for several states, one per line.
    public static func message(_ states: [NotifyState]) -> String {
        states.map(\.line).joined(separator: "\n")
    }
}

/// Talks to the service manager through `$NOTIFY_SOCKET` (`Type=notify`). Absent (nil) when the
/// process was not started by systemd with a notify socket, so callers need no checks of their own.
public struct ServiceNotifier: Sendable {
    public let socketPath: String

    /// Nil unless `NOTIFY_SOCKET` is set in `environment`.
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        socketPath = path
    }

    /// Sends the states; returns nil on success or the reason it failed (sd_notify's errno).
    @discardableResult
    public func send(_ states: NotifyState...) -> String? {
        send(states)
    }

    @discardableResult
    public func send(_ states: [NotifyState]) -> String? {
        let result = NotifyState.message(states).withCString { sd_notify(0, $0) }
        if result < 0 { return "sd_notify: " + String(cString: strerror(-result)) }
        if result == 0 { return "sd_notify: NOTIFY_SOCKET is not set" }
        return nil
    }

    /// The watchdog interval systemd expects pings within (`WatchdogSec=`), if any for this
    /// process (`WATCHDOG_USEC`, honouring `WATCHDOG_PID`).
    public static func watchdogInterval() -> UInt64? {
        var micros: UInt64 = 0
        return sd_watchdog_enabled(0, &micros) > 0 && micros > 0 ? micros : nil
    }
}

/// Where the server runs, judged from the environment systemd sets, never from process names.
public enum ServiceEnvironment {
    /// True when stderr is connected to the journal (`JOURNAL_STREAM` names stderr's device
    /// and inode), so log lines should go to journald natively.
    public static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
