/// Size limits applied while parsing a request. They are checked as bytes arrive, so an
/// oversized request is rejected before it is complete.
public struct HTTPLimits: Sendable, Equatable {
    /// Maximum bytes of the request line, excluding CRLF (Gunicorn's `limit_request_line`,
    /// default 4094). Longer lines are answered with 414. 0 means unlimited.
    public var requestLine: Int
    /// Maximum number of header fields (Gunicorn's `limit_request_fields`, default 100).
    /// More fields are answered with 431. 0 means unlimited.
    public var fieldCount: Int
    /// Maximum bytes of one header field line, excluding CRLF (Gunicorn's
    /// `limit_request_field_size`, default 8190). Longer lines are answered with 431. 0 means unlimited.
    public var fieldSize: Int
    /// Maximum body bytes, either the Content-Length or the decoded chunked body. Larger bodies
    /// are answered with 413. 0 means unlimited.
    public var body: Int

    public init(requestLine: Int = 4094, fieldCount: Int = 100, fieldSize: Int = 8190, body: Int = 0) {
        self.requestLine = requestLine
        self.fieldCount = fieldCount
        self.fieldSize = fieldSize
        self.body = body
    }
}
