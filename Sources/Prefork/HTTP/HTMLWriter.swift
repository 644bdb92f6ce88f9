import HTTPTypes

/// A page being written: HTML fragments appended as UTF-8 into one growing buffer, which
/// becomes the response body without a copy.
///
///     var page = HTMLWriter()
///     page.append("<h1>\(title)</h1><table>")                // title escaped
///     for tag in tags { page.append("<tr><td>\(tag)</td></tr>") }
///     page.append("</table>")
///     return page.response()
///
/// Everything goes in through `HTML` (whose interpolations escape) or through the explicitly
/// named raw and escaping methods below; there is no way to append a `String` unescaped by
/// accident.
public struct HTMLWriter: Sendable, HTMLByteSink {
    private var buffer: ByteBuffer

    /// `capacity`: the bytes to make room for up front (a page that outgrows it doubles).
    public init(capacity: Int = 16 * 1024) {
        buffer = ByteBuffer(capacity: capacity)
    }

    /// The number of bytes written so far.
    public var count: Int { buffer.count }

    mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        buffer.write(maximum: maximum, body)
    }

    /// Appends a fragment (its interpolations were escaped when it was made).
    public mutating func append(_ html: HTML) {
        switch html.storage {
        case .literal(let literal): appendStatic(literal)
        case .bytes(let bytes): bytes.withBytes { appendRaw($0) }
        }
    }

    /// Appends text, escaped.
    public mutating func append(escaping text: some StringProtocol) { appendEscaped(text) }

    /// Appends UTF-8 bytes (a database column read in place), escaped.
    public mutating func append(escaping utf8: UnsafeRawBufferPointer) { appendEscaped(utf8) }

    /// Appends an integer as decimal digits.
    public mutating func append(_ value: Int) { appendDecimal(value) }

    /// Appends markup as it is, unescaped: only for trusted HTML, such as SVG the server drew.
    public mutating func append(raw text: some StringProtocol) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({ appendRaw(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        var copy = String(text)
        copy.withUTF8 { appendRaw(UnsafeRawBufferPointer($0)) }
    }

    /// The page as it stands (for tests and logs).
    public var text: String { buffer.withBytes { String(decoding: $0, as: UTF8.self) } }

    /// The bytes written, for a response body (shared, not copied).
    public var bytes: ByteBuffer { buffer }

    /// What was written, as a fragment to keep and append to other pages (shared, not copied):
    /// take it when done writing.
    public var html: HTML { HTML(storage: .bytes(buffer)) }
}

extension Response {
    /// An HTML page from a writer: its bytes become the body without a copy.
    public static func html(_ page: consuming HTMLWriter, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: ResponseHeaders(contentType: "text/html; charset=utf-8"), body: .buffer(page.bytes)
        )
    }
}
