import CPreforkShims
import HTTPTypes
import PreforkCore

/// Serializes responses into a byte buffer: status line, the server's own fields, the
/// application's fields, then the body. Status lines and the `Date:` field are cached.
struct ResponseWriter {
    private(set) var date = HTTPDate()
    /// Status lines by code (100...599), each with the reason phrase it was made for: a
    /// response whose status carries another phrase gets its own line.
    private var statusLines: [(reason: String, line: [UInt8])?] = Array(repeating: nil, count: 500)
    let serverField: [UInt8]

    init(serverName: String) {
        serverField = Array("Server: \(serverName)\r\n".utf8)
    }

    /// Refreshes the cached `Date:` value when the wall-clock second changed.
    mutating func tick(realtimeNanos: Int64) {
        date.update(realtimeNanos: realtimeNanos)
    }

    /// What the connection does after this response (decided by `ConnectionStateMachine`).
    typealias Persistence = ResponsePersistence

    /// Appends the whole response to `out` (`head` is the request's head, where a forwarded
    /// request id lives); returns the number of body bytes written. A file body or a large one
    /// in memory (`sentSeparately`) is not appended: its bytes are counted, and the caller
    /// queues it on the connection to follow the head.
    @discardableResult
    mutating func write(
        _ response: Response, requestID: RequestID, head: [UInt8] = [], persistence: Persistence,
        headOnly: Bool, into out: inout [UInt8]
    ) -> Int {
        let code = response.status.code
        let slot = code - 100
        if statusLines.indices.contains(slot), let cached = statusLines[slot],
            cached.reason == response.status.reasonPhrase
        {
            out.append(contentsOf: cached.line)
        } else {
            let line = ResponseWriter.statusLine(response.status)
            if statusLines.indices.contains(slot) { statusLines[slot] = (response.status.reasonPhrase, line) }
            out.append(contentsOf: line)
        }
        out.append(contentsOf: date.field)
        out.append(contentsOf: serverField)
        let bodyAllowed = !(code == 204 || code == 304 || (code >= 100 && code < 200))
        let bodyCount = response.body.count
        if bodyAllowed {
            appendASCII("Content-Length: ", into: &out)
            appendDecimal(bodyCount, into: &out)
            out.append(13)
            out.append(10)
        }
        appendASCII("X-Request-ID: ", into: &out)
        requestID.withBytes(head: head) { out.append(contentsOf: $0) }
        out.append(13)
        out.append(10)
        switch persistence {
        case .keepAlive: break
        case .keepAliveHTTP10: appendASCII("Connection: keep-alive\r\n", into: &out)
        case .close: appendASCII("Connection: close\r\n", into: &out)
        }
        out.append(contentsOf: response.headers.bytes)
        out.append(13)
        out.append(10)
        guard bodyAllowed && !headOnly && bodyCount > 0 else { return 0 }
        if response.body.sentSeparately { return bodyCount }
        response.body.withBytes { out.append(contentsOf: $0) }
        return bodyCount
    }

    /// `100 Continue`, sent before reading a body the client is waiting to send.
    static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    static func statusLine(_ status: HTTPResponse.Status) -> [UInt8] {
        Array("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
    }
}

@inline(__always)
func appendASCII(_ text: StaticString, into out: inout [UInt8]) {
    text.withUTF8Buffer { out.append(contentsOf: $0) }
}

@inline(__always)
func appendDecimal(_ value: Int, into out: inout [UInt8]) {
    if value < 10 {
        out.append(UInt8(48 + value))
        return
    }
    var digits:
        (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        ) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var v = value
    withUnsafeMutableBytes(of: &digits) { raw in
        while v > 0 {
            raw[19 - count] = UInt8(48 + v % 10)
            v /= 10
            count += 1
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
    }
}
