import HTTPTypes

/// A response: status, header fields and body. Header fields are kept serialized
/// (`Name: value\r\n`), so writing a response costs a copy, not a dictionary walk.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headers: ResponseHeaders
    public var body: ResponseBody
    /// The signed-in user the application served this request for: the access log's `%(u)s`
    /// and the journal's `REMOTE_USER`. Never sent to the client.
    public var user: String?

    public init(
        status: HTTPResponse.Status = .ok, headers: ResponseHeaders = ResponseHeaders(), body: ResponseBody = .empty
    ) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response from swift-http-types' `HTTPResponse`.
    public init(_ response: HTTPResponse, body: ResponseBody = .empty) {
        var headers = ResponseHeaders()
        for field in response.headerFields { headers.add(field.name.rawName, field.value) }
        self.init(status: response.status, headers: headers, body: body)
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: ResponseHeaders(contentType: "text/plain; charset=utf-8"), body: .string(text))
    }

    public static func json(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: ResponseHeaders(contentType: "application/json"), body: .string(json))
    }

    public static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: ResponseHeaders(contentType: contentType), body: .bytes(bytes))
    }

    /// A plain error page whose body says only the status, never internals.
    public static func error(_ status: HTTPResponse.Status, message: String? = nil) -> Response {
        .text((message ?? "\(status.code) \(status.reasonPhrase)") + "\n", status: status)
    }
}

/// A response body: held in memory, or a region of an open file sent with `sendfile(2)`.
public enum ResponseBody: Sendable {
    case empty
    case string(String)
    case bytes([UInt8])
    case staticString(StaticString)
    /// An `HTMLWriter`'s bytes, as written.
    case buffer(ByteBuffer)
    /// Sent by the connection after the head, with `sendfile(2)`; see `FileRegion`.
    case file(FileRegion)

    public var count: Int {
        switch self {
        case .empty: return 0
        case .string(let text): return text.utf8.count
        case .bytes(let bytes): return bytes.count
        case .staticString(let text): return text.utf8CodeUnitCount
        case .buffer(let buffer): return buffer.count
        case .file(let region): return region.count
        }
    }

    /// Whether the worker sends this body from where it is (a file with `sendfile`, a page of
    /// 4 KiB or more with `writev` beside the head) instead of copying it behind the head.
    var sentSeparately: Bool {
        switch self {
        case .file: return true
        case .buffer, .bytes: return count >= 4096
        case .empty, .string, .staticString: return false
        }
    }

    /// Calls `body` with the bytes, without copying where the storage is contiguous (a file
    /// region is read into memory: the worker never calls this for one).
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        switch self {
        case .empty: return body(UnsafeRawBufferPointer(start: nil, count: 0))
        case .file(let region): return region.readAll().withUnsafeBytes(body)
        case .bytes(let bytes): return bytes.withUnsafeBytes(body)
        case .staticString(let text): return text.withUTF8Buffer { body(UnsafeRawBufferPointer($0)) }
        case .buffer(let buffer): return buffer.withBytes(body)
        case .string(var text):
            if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
                return result
            }
            text.makeContiguousUTF8()
            return text.utf8.withContiguousStorageIfAvailable { body(UnsafeRawBufferPointer($0)) }!
        }
    }
}

/// Response header fields, serialized as they are added. `Content-Length`, `Date`, `Server`,
/// `Connection` and `X-Request-ID` are written by the server and must not be added here.
public struct ResponseHeaders: Sendable {
    var bytes: [UInt8] = []

    public init() {}

    public init(contentType: String) {
        bytes.reserveCapacity(64)
        add("Content-Type", contentType)
    }

    /// Adds a field. CR, LF and NUL in a name or value are replaced by a space, so a value taken
    /// from user input can never split the response.
    public mutating func add(_ name: String, _ value: String) {
        append(name.utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
        append(value.utf8)
        bytes.append(13)
        bytes.append(10)
    }

    /// The first value of `name` (case-insensitive), or nil.
    public func value(of name: String) -> String? {
        let wanted = Array(name.lowercased().utf8)
        return bytes.withUnsafeBytes { raw -> String? in
            var start = 0
            while start < raw.count {
                var end = start
                while end < raw.count && raw[end] != 13 { end += 1 }
                if let colon = raw[start..<end].firstIndex(of: UInt8(ascii: ":")),
                    asciiCaseInsensitiveEqual(raw, start..<colon, wanted)
                {
                    let valueStart = min(colon + 2, end)
                    return String(decoding: UnsafeRawBufferPointer(rebasing: raw[valueStart..<end]), as: UTF8.self)
                }
                start = end + 2
            }
            return nil
        }
    }

    public var isEmpty: Bool { bytes.isEmpty }

    private mutating func append(_ utf8: String.UTF8View) {
        let copied = utf8.withContiguousStorageIfAvailable { source -> Bool in
            guard !source.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else { return false }
            bytes.append(contentsOf: source)
            return true
        }
        guard copied != true else { return }
        for byte in utf8 { bytes.append(byte == 13 || byte == 10 || byte == 0 ? 0x20 : byte) }
    }
}
