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
/// | `t`         | request start, `[21/Nov/2026:13:55:36 +0000]` (UTC)          |
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

        let bytes = Array(format.utf8)
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
                appendValue(entry.remoteAddress, to: &buffer)
            case .time:
                appendCommonLogTime(nanos: entry.startRealtimeNanos, to: &buffer)
            case .requestLine:
                appendEscaped(entry.method, to: &buffer)
                buffer.append(UInt8(ascii: " "))
                appendEscaped(entry.target, to: &buffer)
                buffer.append(UInt8(ascii: " "))
                appendHTTPVersion(entry.versionMinor, to: &buffer)
            case .method:
                appendEscaped(entry.method, to: &buffer)
            case .path:
                let utf8 = entry.target.utf8
                let end = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
                appendEscaped(utf8[utf8.startIndex..<end], to: &buffer)
            case .query:
                let utf8 = entry.target.utf8
                if let q = utf8.firstIndex(of: UInt8(ascii: "?")) {
                    appendEscaped(utf8[utf8.index(after: q)...], to: &buffer)
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
                appendValue(entry.requestID, to: &buffer)
            case .user:
                appendValue(entry.user, to: &buffer)
            case .requestHeader(let name):
                appendValue(entry.requestHeader(name), to: &buffer)
            case .responseHeader(let name):
                appendValue(entry.responseHeader(name), to: &buffer)
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
        self.pid = pid
        self.requestID = requestID
        self.user = user
        self.requestHeader = requestHeader
        self.responseHeader = responseHeader
    }
}

// MARK: - Byte-level helpers (no allocation beyond the output buffer)

/// Escaped value, or `-` when nil or empty.
@inline(__always)
private func appendValue(_ value: String?, to buffer: inout [UInt8]) {
    guard let value, !value.isEmpty else {
        buffer.append(UInt8(ascii: "-"))
        return
    }
    appendEscaped(value, to: &buffer)
}

@inline(__always)
private func appendEscaped(_ value: String, to buffer: inout [UInt8]) {
    appendEscaped(value.utf8, to: &buffer)
}

private let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

private func appendEscaped<C: Collection>(_ bytes: C, to buffer: inout [UInt8])
where C.Element == UInt8 {
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(byte)
        case 0x20..<0x7F:
            buffer.append(byte)
        default:  // controls, DEL, and every non-ASCII byte
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "x"))
            buffer.append(hexDigits[Int(byte >> 4)])
            buffer.append(hexDigits[Int(byte & 0x0F)])
        }
    }
}

private func appendHTTPVersion(_ minor: Int, to buffer: inout [UInt8]) {
    buffer.append(contentsOf: [
        UInt8(ascii: "H"), UInt8(ascii: "T"), UInt8(ascii: "T"), UInt8(ascii: "P"),
        UInt8(ascii: "/"), UInt8(ascii: "1"), UInt8(ascii: "."),
    ])
    appendDecimal(Int64(minor), to: &buffer)
}

private func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 {
        buffer.append(UInt8(ascii: "-"))
        // Int64.min has no positive counterpart; go through its magnitude.
        appendUnsigned(value.magnitude, to: &buffer)
    } else {
        appendUnsigned(UInt64(value), to: &buffer)
    }
}

private func appendUnsigned(_ value: UInt64, to buffer: inout [UInt8]) {
    var digits = 1
    var probe = value
    while probe >= 10 {
        probe /= 10
        digits += 1
    }
    appendPadded(Int64(bitPattern: value), width: digits, to: &buffer)
}

/// `value` (non-negative, or a bit pattern from `appendUnsigned`) as exactly `width` digits,
/// zero-padded on the left.
private func appendPadded(_ value: Int64, width: Int, to buffer: inout [UInt8]) {
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
    var v = UInt64(bitPattern: value)
    var k = start + width - 1
    while k >= start {
        buffer[k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
        v /= 10
        k -= 1
    }
}

private let monthNames: [[UInt8]] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
].map { Array($0.utf8) }

/// `[dd/Mon/yyyy:hh:mm:ss +0000]` for a Unix time in nanoseconds, always UTC.
func appendCommonLogTime(nanos: Int64, to buffer: inout [UInt8]) {
    let (seconds, _) = floorDivMod(nanos, 1_000_000_000)
    let (days, secondOfDay) = floorDivMod(seconds, 86_400)
    let (year, month, day) = civilFromDays(days)

    buffer.append(UInt8(ascii: "["))
    appendPadded(day, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: "/"))
    buffer.append(contentsOf: monthNames[Int(month) - 1])
    buffer.append(UInt8(ascii: "/"))
    if year < 0 {
        buffer.append(UInt8(ascii: "-"))
        appendPadded(-year, width: 4, to: &buffer)
    } else if year > 9999 {
        appendDecimal(year, to: &buffer)
    } else {
        appendPadded(year, width: 4, to: &buffer)
    }
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay / 3600, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay / 60 % 60, width: 2, to: &buffer)
    buffer.append(UInt8(ascii: ":"))
    appendPadded(secondOfDay % 60, width: 2, to: &buffer)
    buffer.append(contentsOf: Array(" +0000]".utf8))
}

@inline(__always)
private func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    var q = a / b
    var r = a % b
    if r < 0 {
        q -= 1
        r += b
    }
    return (q, r)
}

/// Proleptic Gregorian (year, month 1...12, day 1...31) from days since 1970-01-01.
/// Eras of 400 years (146 097 days) starting on March 1st, so the leap day is the last day
/// of its "year" and the month lengths before it are fixed.
func civilFromDays(_ daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = daysSinceEpoch + 719_468  // days since 0000-03-01
    let era = floorDivMod(z, 146_097).0
    let dayOfEra = z - era * 146_097  // 0...146096
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365
    let mp = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
}
