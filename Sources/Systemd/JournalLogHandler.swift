import Logging

/// A swift-log handler that writes native journald entries: `MESSAGE`, `PRIORITY` (from the
/// level), `SYSLOG_IDENTIFIER`, `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`, and every metadata key as
/// its own field (`request_id` → `REQUEST_ID`), so `journalctl -u UNIT REQUEST_ID=...` works.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let identifier: String
    /// Where a line goes if journald refuses the entry.
    let fallback: @Sendable (String) -> Void

    public init(identifier: String, level: Logger.Level, fallback: @escaping @Sendable (String) -> Void) {
        self.identifier = identifier
        self.logLevel = level
        self.fallback = fallback
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(JournalLogHandler.priority(event.level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged {
            fields.append((JournalFields.normalize(key), value.description))
        }
        if !JournalWriter.send(fields) { fallback(event.message.description) }
    }

    /// syslog priorities: 2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }
}
