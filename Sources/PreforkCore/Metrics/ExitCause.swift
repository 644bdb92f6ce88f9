#if canImport(Glibc)
    import Glibc
#endif

/// Why a worker exited, as the `prefork_worker_exits_total` metric counts it. The raw values
/// index the shared totals (`PREFORK_EXIT_CAUSES` entries); the order never changes.
public enum ExitCause: Int, CaseIterable, Sendable {
    /// Left when told to (drained after a reload, max_requests, max_worker_memory, a stop).
    case graceful = 0
    /// Killed by the master after a request, heartbeat, boot or graceful timeout.
    case timeout = 1
    /// SIGKILL the master did not send (usually the kernel's OOM killer).
    case killed = 2
    /// Any other signal it did not ask for (a trap, SIGSEGV...).
    case crashed = 3
    /// Exited with a non-zero code.
    case error = 4
    /// Could not boot.
    case bootFailed = 5
    /// Exited with code 0 unasked.
    case unexpected = 6

    /// The label value: graceful, timeout, killed, crashed, error, boot_failed, unexpected.
    public var label: String {
        switch self {
        case .graceful: return "graceful"
        case .timeout: return "timeout"
        case .killed: return "killed"
        case .crashed: return "crashed"
        case .error: return "error"
        case .bootFailed: return "boot_failed"
        case .unexpected: return "unexpected"
        }
    }

    /// Classifies an exit the way `SupervisionPolicy.judgeExit` words it.
    public static func of(
        _ termination: SupervisionPolicy.Termination, sent: SupervisionPolicy.SentSignal, wasReady: Bool,
        bootFailureCode: Int32
    ) -> ExitCause {
        switch termination {
        case .exited(let code) where code == 0: return sent == .none ? .unexpected : .graceful
        case .exited(let code) where code == bootFailureCode && !wasReady: return .bootFailed
        case .exited: return .error
        case .signaled(let signal, _):
            switch (signal, sent) {
            case (SIGTERM, .term), (SIGQUIT, .quit), (SIGINT, .quit): return .graceful
            case (SIGABRT, .abort), (SIGKILL, .kill): return .timeout
            case (SIGKILL, _): return .killed
            default: return .crashed
            }
        }
    }
}
