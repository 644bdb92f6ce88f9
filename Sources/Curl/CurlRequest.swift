/// One HTTP request for ``CurlSession/perform(_:)``.
public struct CurlRequest: Sendable {
    public var method: String
    /// An absolute `http://` or `https://` URL, percent-encoded.
    public var url: String
    /// Headers besides the ones libcurl writes (Host, Content-Length).
    public var headers: [(name: String, value: String)]
    /// The body; sent (with its Content-Length) when not empty or when the method is not GET/HEAD.
    public var body: [UInt8]
    /// When the request must be over: name resolution, connect, TLS, sending and the whole
    /// response all count against it.
    public var deadline: ContinuousClock.Instant
    /// The seconds the deadline stands for, for messages ("timed out after 10s").
    public var budgetSeconds: Double

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        deadline: ContinuousClock.Instant, budgetSeconds: Double
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.deadline = deadline
        self.budgetSeconds = budgetSeconds
    }
}

/// What the server answered.
public struct CurlResponse: Sendable {
    public var status: Int
    /// The status line's reason phrase ("Not Found"); empty over HTTP/2.
    public var reason: String
    /// The final response's headers, in order (those of a `100 Continue` are dropped).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
