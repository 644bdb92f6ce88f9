import PreforkCore
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The access log of a worker: lines rendered with the compiled `access_log_format`. To a
/// file or stdout they are buffered during one event-loop turn and written whole lines at a
/// time; to the journal (`access_logfile = "journal"`) each is an entry with HTTP_* fields, so
/// `journalctl -u UNIT HTTP_STATUS=500` finds failed requests.
final class AccessLog {
    enum Sink {
        case file(LogFile)
        case journal(identifier: String)
    }

    let format: AccessLogFormat
    let sink: Sink
    private var buffer: [UInt8] = []
    private let pid: Int32
    /// The local time zone's offset from UTC (`%(t)s`), looked up once a minute.
    private var offsetMinute: Int64 = .min
    private var utcOffset = 0

    init(format: AccessLogFormat, sink: Sink, pid: Int32) {
        self.format = format
        self.sink = sink
        self.pid = pid
        buffer.reserveCapacity(8192)
    }

    func record(request: Request, response: Response, bodyBytes: Int, durationNanos: Int64, startRealtime: Int64) {
        // Stay below PIPE_BUF (4096) per write, so a write to a pipe or the journal stream is
        // never split between workers.
        if buffer.count > 2048 { flush() }
        let entry = AccessLogEntry(
            remoteAddress: request.remoteAddress,
            method: request.method.rawValue,
            target: request.target,
            versionMinor: Int(request.versionMinor),
            status: response.status.code,
            responseBytes: bodyBytes,
            durationMicros: durationNanos / 1000,
            startRealtimeNanos: startRealtime,
            utcOffsetSeconds: utcOffset(at: startRealtime),
            pid: pid,
            requestID: request.requestID,
            user: response.user,
            requestHeader: { request.header($0) },
            responseHeader: { response.headers.value(of: $0) })
        switch sink {
        case .file:
            format.render(entry, into: &buffer)
        case .journal(let identifier):
            var line: [UInt8] = []
            format.render(entry, into: &line)
            if line.last == 10 { line.removeLast() }
            var fields: [(name: String, value: String)] = [
                ("MESSAGE", String(decoding: line, as: UTF8.self)),
                ("PRIORITY", response.status.code >= 500 ? "4" : "6"),
                ("SYSLOG_IDENTIFIER", identifier),
                ("PREFORK_LOG", "access"),
                ("WORKER_PID", String(pid)),
                ("REQUEST_ID", entry.requestID),
                ("REMOTE_ADDR", entry.remoteAddress),
                ("HTTP_METHOD", entry.method),
                ("HTTP_PATH", request.path),
                ("HTTP_STATUS", String(entry.status)),
                ("HTTP_BYTES", String(bodyBytes)),
                ("DURATION_USEC", String(entry.durationMicros)),
            ]
            if let user = entry.user, !user.isEmpty { fields.append(("REMOTE_USER", user)) }
            JournalWriter.send(fields)
        }
    }

    func flush() {
        guard !buffer.isEmpty, case .file(let file) = sink else { return }
        buffer.withUnsafeBytes { file.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `tm_gmtoff` of the local time at `nanos` (Unix time), cached for the minute.
    private func utcOffset(at nanos: Int64) -> Int {
        let minute = nanos / 60_000_000_000
        if minute != offsetMinute {
            var seconds = time_t(nanos / 1_000_000_000)
            var local = tm()
            if localtime_r(&seconds, &local) != nil { utcOffset = Int(local.tm_gmtoff) }
            offsetMinute = minute
        }
        return utcOffset
    }
}
