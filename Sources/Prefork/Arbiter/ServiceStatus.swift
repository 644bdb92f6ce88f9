import CPreforkShims
import PreforkCore
import Systemd

/// What the master tells systemd: readiness once, then a `STATUS=` line kept current
/// (`systemctl status` shows it) and watchdog pings while the master is healthy.
struct ServiceStatus {
    var readySent = false
    var watchdogInterval: UInt64?
    var lastWatchdog: Int64 = 0
    var lastStatus: Int64 = 0
    var lastStatusText = ""
    var lastTotal: UInt64 = 0
    var lastTotalAt: Int64 = 0
}

extension Arbiter {
    /// Tells systemd what the bookkeeping decided.
    func notify(_ notice: ServiceNotice) {
        switch notice {
        case .reloading: notify(.reloading(monotonicMicros: UInt64(Clock.monotonic() / 1000)))
        case .ready(let status):
            if let status { notify(.ready, .status(status)) } else { notify(.ready) }
        case .stopping(let extendMicros): notify(.stopping, .extendTimeout(micros: extendMicros), .status("stopping"))
        }
    }

    func notify(_ states: NotifyState...) {
        guard let notifier else { return }
        if let failure = notifier.send(states) {
            logger.warning("cannot notify systemd (NOTIFY_SOCKET=\(notifier.socketPath)): \(failure)")
        }
    }

    /// READY=1 when every worker of the first generation serves; STATUS= every 2 s;
    /// WATCHDOG=1 at half the watchdog interval while at least one worker serves (or the first
    /// ones are still booting).
    func notifyServiceManager() {
        guard notifier != nil, state.mode == .running else { return }
        let now = Clock.monotonic()
        var ready = 0
        var busy = 0
        var total = scoreboard.shared.pointee.totals.requests  // the reaped workers', kept across USR2
        for record in state.workers.values where record.kind == .http {
            let slot = scoreboard[record.slot]
            total += slot.pointee.requests
            let slotState = prefork_slot_load_state(slot)
            if slotState == UInt32(PREFORK_SLOT_BUSY) { busy += 1 }
            if slotState == UInt32(PREFORK_SLOT_IDLE) || slotState == UInt32(PREFORK_SLOT_BUSY) { ready += 1 }
        }
        if !service.readySent && ready >= state.targetWorkers {
            service.readySent = true
            logger.info("All \(ready) worker(s) serving; ready")
            service.lastStatusText = statusText(ready: ready, busy: busy, total: total, rate: 0)
            notify(.ready, .status(service.lastStatusText))
            service.lastStatus = now
            service.lastTotal = total
            service.lastTotalAt = now
        }
        if let interval = service.watchdogInterval, now - service.lastWatchdog >= Int64(interval) * 500,
            ready > 0 || !service.readySent
        {
            service.lastWatchdog = now
            notify(.watchdog)
        }
        if service.readySent && now - service.lastStatus >= 2_000_000_000 {
            let seconds = Double(now - service.lastTotalAt) / 1e9
            let rate = seconds > 0 ? Double(total &- service.lastTotal) / seconds : 0
            let text = statusText(ready: ready, busy: busy, total: total, rate: rate)
            service.lastStatus = now
            service.lastTotal = total
            service.lastTotalAt = now
            if text != service.lastStatusText {
                service.lastStatusText = text
                notify(.status(text))
            }
        }
    }

    private func statusText(ready: Int, busy: Int, total: UInt64, rate: Double) -> String {
        let tenths = Int((rate * 10).rounded())
        let count = state.workers.values.filter { $0.kind == .http }.count
        let workerNoun = count == 1 ? "worker" : "workers"
        let requestNoun = total == 1 ? "request" : "requests"
        return "\(count) \(workerNoun) (\(busy) busy, \(ready - busy) idle), \(jobWorkersText())"
            + "\(total) \(requestNoun) served, \(tenths / 10).\(tenths % 10) req/s"
    }

    /// "1 job worker (running job 12), " or "2 job workers (idle), "; empty without job workers.
    private func jobWorkersText() -> String {
        let jobWorkers = state.workers.values.filter { $0.kind == .job }.sorted { $0.pid < $1.pid }
        guard !jobWorkers.isEmpty else { return "" }
        let running = jobWorkers.compactMap { scoreboard.request(at: $0.slot)?.requestID }
        let noun = jobWorkers.count == 1 ? "job worker" : "job workers"
        let what = running.isEmpty ? "idle" : "running job " + running.joined(separator: ", ")
        return "\(jobWorkers.count) \(noun) (\(what)), "
    }
}
