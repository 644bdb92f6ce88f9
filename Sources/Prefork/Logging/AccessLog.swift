import PreforkCore

/// The access log of a worker: lines rendered with the compiled `access_log_format`,
/// buffered during one event-loop turn and written whole lines at a time.
final class AccessLog {
    let format: AccessLogFormat
    let file: LogFile
    private var buffer: [UInt8] = []
    private let pid: Int32

    init(format: AccessLogFormat, file: LogFile, pid: Int32) {
        self.format = format
        self.file = file
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
            pid: pid,
            requestID: request.requestID,
            requestHeader: { request.header($0) },
            responseHeader: { response.headers.value(of: $0) })
        format.render(entry, into: &buffer)
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { file.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    func reopen() {
        flush()
        file.reopen()
    }
}
