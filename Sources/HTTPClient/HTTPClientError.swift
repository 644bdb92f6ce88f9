/// Why a request failed, as one line an operator can act on: the server's `host:port` and
/// what happened ("tickets.example.org:443: timed out after 10s while waiting for the response").
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; new kinds may be added.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The URL does not parse, or is not http/https.
        public static let invalidURL = Kind("invalid URL")
        /// The request cannot be sent as built (a line break in a header value).
        public static let invalidRequest = Kind("invalid request")
        /// The host name did not resolve.
        public static let dnsFailure = Kind("DNS failure")
        /// Nothing listens on the port (ECONNREFUSED).
        public static let connectionRefused = Kind("connection refused")
        /// The deadline passed; ``HTTPClientError/phase`` says during what.
        public static let timedOut = Kind("timed out")
        /// The server's certificate is not trusted or is for another name.
        public static let tlsVerificationFailed = Kind("TLS verification failed")
        /// Another TLS failure (handshake, protocol, CA file).
        public static let tls = Kind("TLS error")
        /// The server closed the connection before the response was complete.
        public static let closedEarly = Kind("connection closed early")
        /// The response is not valid HTTP/1.1.
        public static let malformedResponse = Kind("malformed response")
        /// The response is larger than the client's limit.
        public static let responseTooLarge = Kind("response too large")
        /// Another socket error (unreachable network, reset...).
        public static let network = Kind("network error")
    }

    /// Where a request was when it failed.
    public enum Phase: String, Sendable {
        case connecting = "while connecting"
        case tlsHandshake = "during the TLS handshake"
        case sending = "while sending the request"
        case receiving = "while waiting for the response"
    }

    public var kind: Kind
    /// `host:port` (or the URL text, for an invalid URL).
    public var endpoint: String
    public var phase: Phase?
    /// What happened, without the endpoint: "connection refused".
    public var message: String

    public init(_ kind: Kind, endpoint: String, phase: Phase? = nil, _ message: String) {
        self.kind = kind
        self.endpoint = endpoint
        self.phase = phase
        self.message = message
    }

    public var description: String { "\(endpoint): \(message)" }

    /// "2s", "0.5s": how timeouts are written in messages.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? "\(Int(value))s" : "\(value)s"
    }
}
