import OpenSSLSupport

/// A blocking HTTP/1.1 client for synchronous workers: one request at a time on the calling
/// thread, no threads, no event loop, no Foundation.
///
/// Every request gets one deadline, `timeout` seconds from its start, that covers connecting,
/// the TLS handshake, sending and reading the whole response; the call never blocks past it
/// (except in name resolution, see ``ClientSocket``). Each request opens a new connection and
/// sends `Connection: close`: there is no connection pooling, because a worker's calls to RT
/// are few and a kept-alive connection would outlive the request that opened it.
///
/// `https` verifies the server's certificate against the system CA store (plus `caFile`) and
/// its host name.
///
/// A client is a reference: its copies share the resolved addresses it keeps. It is meant for
/// one thread (a synchronous worker), so nothing in it is locked.
public final class BlockingHTTPClient: @unchecked Sendable {
    /// Seconds each request may take, start to finish.
    public let timeout: Double
    /// Responses larger than this (head and body) fail with ``HTTPClientError/Kind/responseTooLarge``.
    public let maximumResponseBytes: Int
    private let tls: TLSClient
    /// Host names this client resolved (see ``AddressCache``): kept per client, so per worker.
    private var addresses = AddressCache()

    /// - Parameters:
    ///   - caFile: PEM CA certificates trusted in addition to the system's (a private CA).
    ///   - verifyCertificates: false accepts any certificate: for tests only.
    public init(
        timeout: Double = 10, caFile: String? = nil, maximumResponseBytes: Int = 16 << 20,
        verifyCertificates: Bool = true
    ) throws(HTTPClientError) {
        let tls: TLSClient
        do {
            tls = try TLSClient(caFile: caFile, verifyPeer: verifyCertificates)
        } catch {
            throw HTTPClientError(.tls, endpoint: caFile ?? "TLS", error.message)
        }
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
        self.tls = tls
    }

    /// Sends `request` and reads the whole response, within ``timeout``.
    public func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> HTTPClientResponse {
        let url = request.url
        let deadline = Deadline(after: timeout)
        let socket = try ClientSocket.connect(
            host: url.host, port: url.port, endpoint: url.endpoint, deadline: deadline, addresses: &addresses)
        let connection: any ClientConnection =
            url.isTLS ? try TLSConnection(socket: socket, client: tls, serverName: url.host) : socket
        try connection.send(request.serialized(), phase: .sending)

        var parser = ResponseParser(maximumSize: maximumResponseBytes, isHeadRequest: request.method == "HEAD")
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = try buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(HTTPClientError) in try connection.receive(into: bytes, phase: .receiving) }
            }.get()
            let result: Result<HTTPClientResponse?, ResponseParser.Failure>
            if count == 0 {
                result = Result { () throws(ResponseParser.Failure) in try parser.finish() }.map { $0 }
            } else {
                result = Result { () throws(ResponseParser.Failure) in try parser.append(buffer[..<count]) }
            }
            switch result {
            case .success(let response?): return response
            case .success(nil): continue
            case .failure(let failure): throw failure.clientError(endpoint: url.endpoint)
            }
        }
    }

    /// `GET url`.
    public func get(_ url: String, headers: [(name: String, value: String)] = []) throws(HTTPClientError)
        -> HTTPClientResponse
    {
        try send(HTTPClientRequest(method: "GET", url: url, headers: headers))
    }
}

/// A request: method, absolute URL, extra headers and body. `Host`, `Content-Length` and
/// `Connection: close` are added when it is sent.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: HTTPURL
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [])
        throws(HTTPClientError)
    {
        try self.init(method: method, url: HTTPURL(url), headers: headers, body: body)
    }

    public init(method: String = "GET", url: HTTPURL, headers: [(name: String, value: String)] = [], body: [UInt8] = [])
        throws(HTTPClientError)
    {
        let forbidden: (String) -> Bool = { $0.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 } }
        for field in headers where forbidden(field.name) || forbidden(field.value) || field.name.isEmpty {
            throw HTTPClientError(
                .invalidRequest, endpoint: url.endpoint,
                "header \(field.name) has a line break or NUL in its name or value")
        }
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw HTTPClientError(.invalidRequest, endpoint: url.endpoint, "invalid method \(method)")
        }
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    func serialized() -> [UInt8] {
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// A complete response. Header names are lowercase.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (any case).
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    /// The body as UTF-8 text (invalid bytes become U+FFFD).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

extension ResponseParser.Failure {
    func clientError(endpoint: String) -> HTTPClientError {
        switch self {
        case .malformed(let why):
            return HTTPClientError(
                .malformedResponse, endpoint: endpoint, phase: .receiving, "malformed response: \(why)")
        case .tooLarge(let limit):
            return HTTPClientError(
                .responseTooLarge, endpoint: endpoint, phase: .receiving, "response larger than \(limit) bytes")
        case .incomplete(let why):
            return HTTPClientError(.closedEarly, endpoint: endpoint, phase: .receiving, why)
        }
    }
}
