#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Gunicorn-compatible access log format (`--access-log-format`).
///
/// The format string is compiled once, at start-up, into a list of segments. Each request is
/// then rendered by walking those segments and appending bytes to a caller-owned, reusable
/// buffer: no Foundation, no formatters, no intermediate `String`s for numbers or dates.
///
/// Supported atoms (all written `%(NAME)s`):
///
/// | atom        | value                                                        |
/// |-------------|--------------------------------------------------------------|
/// | `h`         | remote address                                               |
/// | `l`         | always `-`                                                   |
/// | `u`         | the user the application names on the response, else `-`     |
/// | `t`         | request start in local time, `[21/Nov/2026:13:55:36 -0700]` |
/// | `r`         | request line, `GET /x?y HTTP/1.1`                            |
/// | `m`         | method                                                       |
/// | `U`         | path (target up to `?`)                                      |
/// | `q`         | query (after `?`, empty if none)                             |
/// | `H`         | protocol, `HTTP/1.1`                                         |
/// | `s`         | status code                                                  |
/// | `B`         | response body bytes                                          |
/// | `b`         | response body bytes, `-` when 0                              |
/// | `f`         | `Referer` request header                                     |
/// | `a`         | `User-Agent` request header                                  |
/// | `T`         | duration, whole seconds                                      |
/// | `M`         | duration, milliseconds                                       |
/// | `D`         | duration, microseconds                                       |
/// | `L`         | duration, decimal seconds (`0.001234`)                       |
/// | `p`         | worker pid, `<1234>`                                         |
/// | `rid`       | request id (our addition)                                    |
/// | `{name}i`   | request header `name`                                        |
/// | `{name}o`   | response header `name`                                       |
/// | `{name}e`   | environment variable `name` (read once, when compiled)       |
///
/// A `%` that does not start `%(` is copied literally (`%%` is *not* collapsed). A `%(` that is
/// not closed by `)s`, or names an unknown atom, is a configuration error.
///
/// `json` instead of a format is the JSON preset (`jsonFormat`), with JSON escaping.
///
/// Escaping: every *value* (never the literal text of the format itself) is escaped so that a
/// client cannot forge a field or a line:
/// - `"` becomes `\"` and `\` becomes `\\`;
/// - bytes below 0x20, 0x7F, **and all bytes >= 0x80** become `\xHH` (upper-case hex).
///
/// Non-ASCII UTF-8 is deliberately escaped byte by byte (as nginx does) rather than kept: the
/// log stays pure ASCII, so bidi overrides, U+2028/U+2029 line separators or terminal escape
/// sequences in a header cannot mislead a human reading the log, and the exact bytes can still
/// be recovered. Missing headers (and empty remote address / request id) render as `-`.
public struct AccessLogFormat: Sendable {
    /// The default format, as gunicorn's with our request id appended.
    public static let defaultFormat =
        #"%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(rid)s"#

    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case remoteAddress
        case time
        case requestLine
        case method
        case path
        case query
        case httpVersion
        case status
        case bodyBytes
        case bodyBytesOrDash
        case durationSeconds
        case durationMillis
        case durationMicros
        case durationDecimalSeconds
        case pid
        case requestID
        case user
        case requestHeader(String)
        case responseHeader(String)
    }

    let segments: [Segment]
    /// Values escaped as JSON string contents (the `json` preset) rather than as log text.
    let json: Bool

    /// `access_log_format = "json"`: one JSON object per line whose values are all strings,
    /// valid JSON whatever the request held (controls and bytes past ASCII as `\u00HH`).
    public static let jsonFormat =
        #"{"remote_addr": "%(h)s", "time": "%(t)s", "request": "%(r)s", "method": "%(m)s", "path": "%(U)s", "#
        + #""query": "%(q)s", "status": "%(s)s", "bytes": "%(B)s", "duration_us": "%(D)s", "referer": "%(f)s", "#
        + #""user_agent": "%(a)s", "user": "%(u)s", "request_id": "%(rid)s", "pid": "%(p)s"}"#

    /// The atoms accepted, for error messages and `--help`.
    public static let validAtoms: [String] = [
        "h", "l", "u", "t", "r", "m", "U", "q", "H", "s", "B", "b", "f", "a",
        "T", "M", "D", "L", "p", "rid", "{header}i", "{header}o", "{variable}e",
    ]

    public init(_ format: String) throws(AccessLogFormatError) {
        try self.init(
            format,
            environment: { name in
                guard let value = getenv(name) else { return nil }
                return String(cString: value)
            })
    }

    /// Testable initializer: `environment` resolves `%({name}e)s` at compile time.
    init(_ format: String, environment: (String) -> String?) throws(AccessLogFormatError) {
        json = format == "json"
        let source = json ? Self.jsonFormat : format
        var segments: [Segment] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty {
                segments.append(.literal(literal))
                literal.removeAll()
            }
        }
        func push(_ segment: Segment) {
            flush()
            segments.append(segment)
        }

        let bytes = Array(source.utf8)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "%"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "(")
            else {
                literal.append(byte)
                i += 1
                continue
            }
            // `%(` starts an atom; the name runs to the first `)` (after a `{...}` part, if any).
            let nameStart = i + 2
            var j = nameStart
            if j < bytes.count, bytes[j] == UInt8(ascii: "{") {
                while j < bytes.count, bytes[j] != UInt8(ascii: "}") { j += 1 }
            }
            while j < bytes.count, bytes[j] != UInt8(ascii: ")") { j += 1 }
            guard j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "s") else {
                let end = min(j + 1, bytes.count)
                let text = String(decoding: bytes[i..<end], as: UTF8.self)
                throw AccessLogFormatError(
                    reason: "malformed access log atom '\(text)' (expected %(NAME)s); "
                        + Self.validAtomsSentence)
            }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self)
            i = j + 2

            switch try Self.compile(atom: name, environment: environment) {
            case .segment(let segment): push(segment)
            case .literal(let bytes): literal.append(contentsOf: bytes)
            }
        }
        flush()
        self.segments = segments
    }

    /// What an atom stands for: a segment rendered per request, or bytes fixed when the format
    /// is compiled (`%(l)s` and `%({NAME}e)s` from the environment).
    private enum CompiledAtom {
        case segment(Segment)
        case literal([UInt8])
    }

    private static func compile(
        atom name: String, environment: (String) -> String?
    ) throws(AccessLogFormatError) -> CompiledAtom {
        switch name {
        case "h": return .segment(.remoteAddress)
        case "l": return .literal([UInt8(ascii: "-")])
        case "u": return .segment(.user)
        case "t": return .segment(.time)
        case "r": return .segment(.requestLine)
        case "m": return .segment(.method)
        case "U": return .segment(.path)
        case "q": return .segment(.query)
        case "H": return .segment(.httpVersion)
        case "s": return .segment(.status)
        case "B": return .segment(.bodyBytes)
        case "b": return .segment(.bodyBytesOrDash)
        case "f": return .segment(.requestHeader("referer"))
        case "a": return .segment(.requestHeader("user-agent"))
        case "T": return .segment(.durationSeconds)
        case "M": return .segment(.durationMillis)
        case "D": return .segment(.durationMicros)
        case "L": return .segment(.durationDecimalSeconds)
        case "p": return .segment(.pid)
        case "rid": return .segment(.requestID)
        default: break
        }
        guard let (inner, kind) = Self.braced(name) else {
            throw AccessLogFormatError(reason: "unknown access log atom '%(\(name))s'; " + Self.validAtomsSentence)
        }
        switch kind {
        case UInt8(ascii: "i"): return .segment(.requestHeader(inner.lowercased()))
        case UInt8(ascii: "o"): return .segment(.responseHeader(inner.lowercased()))
        default:
            // `e`: resolved once; escaped like any other value.
            var bytes: [UInt8] = []
            if let value = environment(inner) {
                appendEscaped(value, to: &bytes)
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
            return .literal(bytes)
        }
    }

    /// `{name}i` / `{name}o` / `{name}e` -> (name, kind), name non-empty.
    private static func braced(_ name: String) -> (String, UInt8)? {
        let u = Array(name.utf8)
        guard u.count >= 4, u[0] == UInt8(ascii: "{"), u[u.count - 2] == UInt8(ascii: "}") else {
            return nil
        }
        let kind = u[u.count - 1]
        guard kind == UInt8(ascii: "i") || kind == UInt8(ascii: "o") || kind == UInt8(ascii: "e")
        else { return nil }
        let inner = u[1..<(u.count - 2)]
        guard !inner.contains(UInt8(ascii: "{")), !inner.contains(UInt8(ascii: "}")) else {
            return nil
        }
        return (String(decoding: inner, as: UTF8.self), kind)
    }

    private static var validAtomsSentence: String {
        "valid atoms are: " + validAtoms.map { "%(\($0))s" }.joined(separator: " ")
    }

    /// Appends one rendered line, terminated by `\n`, to `buffer`.
    public func render(_ entry: AccessLogEntry, into buffer: inout [UInt8]) {
        for segment in segments {
            switch segment {
            case .literal(let bytes):
                buffer.append(contentsOf: bytes)
            case .remoteAddress:
                appendValue(entry.remoteAddress, json: json, to: &buffer)
            case .time:
                appendCommonLogTime(nanos: entry.startRealtimeNanos, offsetSeconds: entry.utcOffsetSeconds, to: &buffer)
            case .requestLine:
                appendEscaped(entry.method, json: json, to: &buffer)
                buffer.append(UInt8(ascii: " "))
                appendEscaped(entry.target, json: json, to: &buffer)
                buffer.append(UInt8(ascii: " "))
                appendHTTPVersion(entry.versionMinor, to: &buffer)
            case .method:
                appendEscaped(entry.method, json: json, to: &buffer)
            case .path:
                let utf8 = entry.target.utf8
                let end = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
                appendEscaped(utf8[utf8.startIndex..<end], json: json, to: &buffer)
            case .query:
                let utf8 = entry.target.utf8
                if let q = utf8.firstIndex(of: UInt8(ascii: "?")) {
                    appendEscaped(utf8[utf8.index(after: q)...], json: json, to: &buffer)
                }
            case .httpVersion:
                appendHTTPVersion(entry.versionMinor, to: &buffer)
            case .status:
                appendDecimal(Int64(entry.status), to: &buffer)
            case .bodyBytes:
                appendDecimal(Int64(entry.responseBytes), to: &buffer)
            case .bodyBytesOrDash:
                if entry.responseBytes == 0 {
                    buffer.append(UInt8(ascii: "-"))
                } else {
                    appendDecimal(Int64(entry.responseBytes), to: &buffer)
                }
            case .durationSeconds:
                appendDecimal(max(0, entry.durationMicros) / 1_000_000, to: &buffer)
            case .durationMillis:
                appendDecimal(max(0, entry.durationMicros) / 1_000, to: &buffer)
            case .durationMicros:
                appendDecimal(max(0, entry.durationMicros), to: &buffer)
            case .durationDecimalSeconds:
                let micros = max(0, entry.durationMicros)
                appendDecimal(micros / 1_000_000, to: &buffer)
                buffer.append(UInt8(ascii: "."))
                appendPadded(micros % 1_000_000, width: 6, to: &buffer)
            case .pid:
                buffer.append(UInt8(ascii: "<"))
                appendDecimal(Int64(entry.pid), to: &buffer)
                buffer.append(UInt8(ascii: ">"))
            case .requestID:
                appendValue(entry.requestID, json: json, to: &buffer)
            case .user:
                appendValue(entry.user, json: json, to: &buffer)
            case .requestHeader(let name):
                appendValue(entry.requestHeader(name), json: json, to: &buffer)
            case .responseHeader(let name):
                appendValue(entry.responseHeader(name), json: json, to: &buffer)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }
}

public struct AccessLogFormatError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What one request contributes to its access log line. Filled by the worker after the
/// response is written; the header closures look names up case-insensitively (the format
/// passes them lower-cased) and return nil when absent.
public struct AccessLogEntry {
    public var remoteAddress: String
    public var method: String
    public var target: String
    public var versionMinor: Int
    public var status: Int
    public var responseBytes: Int
    public var durationMicros: Int64
    public var startRealtimeNanos: Int64
    /// The local time zone's offset from UTC at the request's start, for `%(t)s`.
    public var utcOffsetSeconds: Int = 0
    public var pid: Int32
    public var requestID: String
    /// The user the application served the request for (`%(u)s`), nil when none signed in.
    public var user: String?
    public var requestHeader: (String) -> String?
    public var responseHeader: (String) -> String?

    public init(
        remoteAddress: String,
        method: String,
        target: String,
        versionMinor: Int,
        status: Int,
        responseBytes: Int,
        durationMicros: Int64,
        startRealtimeNanos: Int64,
        utcOffsetSeconds: Int = 0,
        pid: Int32,
        requestID: String,
        user: String? = nil,
        requestHeader: @escaping (String) -> String? = { _ in nil },
        responseHeader: @escaping (String) -> String? = { _ in nil }
    ) {
        self.remoteAddress = remoteAddress
        self.method = method
        self.target = target
        self.versionMinor = versionMinor
        self.status = status
        self.responseBytes = responseBytes
        self.durationMicros = durationMicros
        self.startRealtimeNanos = startRealtimeNanos
        self.utcOffsetSeconds = utcOffsetSeconds
        self.pid = pid
        self.requestID = requestID
        self.user = user
        self.requestHeader = requestHeader
        self.responseHeader = responseHeader
    }
}
