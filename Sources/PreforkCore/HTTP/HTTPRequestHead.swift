/// How the body of a request is delimited (RFC 9112 section 6).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No Content-Length and no Transfer-Encoding: the request has no body.
    case none
    /// Exactly this many body bytes follow the head.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: decode with `ChunkedDecoder`.
    case chunked
}

/// The request methods the server tells apart without comparing bytes again.
public enum HTTPMethodCode: UInt8, Sendable {
    case get, head, post, put, delete, patch, options, trace, connect, other
}

/// A parsed and validated request head. It holds no bytes: every range is an offset into the
/// buffer that was passed to `HTTPRequestHeadParser.parse`, relative to its first byte.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: Range<Int>
    /// The request-target exactly as sent.
    public var target: Range<Int>
    /// The path: for origin-form the target up to (not including) '?'; for absolute-form the
    /// path component after the authority (empty when the URI has none); for authority-form
    /// (CONNECT) and asterisk-form (OPTIONS *) the whole target.
    public var path: Range<Int>
    /// The query after '?', nil when the target has no '?'.
    public var query: Range<Int>?
    /// 0 or 1; the major version is always 1.
    public var versionMinor: UInt8
    /// Offset of the first header line (just after the request line's CRLF).
    public var fieldsStart: Int
    /// Total head length including skipped leading CRLFs and the final CRLFCRLF: the body or the
    /// next pipelined request starts here.
    public var length: Int
    public var fieldCount: Int
    public var framing: HTTPBodyFraming
    /// Whether the connection may be reused after this request, from the version and the
    /// Connection field's tokens.
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 10.1.1: ignored for HTTP/1.0).
    public var expectContinue: Bool
    /// Value range of the Host field, if any.
    public var host: Range<Int>?
    public var methodCode: HTTPMethodCode

    public init(
        method: Range<Int>, target: Range<Int>, path: Range<Int>, query: Range<Int>?, versionMinor: UInt8,
        fieldsStart: Int, length: Int, fieldCount: Int, framing: HTTPBodyFraming, keepAlive: Bool,
        expectContinue: Bool, host: Range<Int>?, methodCode: HTTPMethodCode
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.versionMinor = versionMinor
        self.fieldsStart = fieldsStart
        self.length = length
        self.fieldCount = fieldCount
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectContinue = expectContinue
        self.host = host
        self.methodCode = methodCode
    }
}
