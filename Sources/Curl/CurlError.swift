/// Why a request failed, as one line an operator can act on ("connection refused", "timed out
/// after 10s while waiting for the response"). The server is not named: the caller knows which
/// one it asked and says so.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; new kinds may be added.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The host name (or the proxy's) did not resolve.
        public static let cannotResolve = Kind("cannot resolve")
        /// Nothing listens on the port (ECONNREFUSED).
        public static let connectionRefused = Kind("connection refused")
        /// The server's certificate is not trusted or is for another name, the handshake failed,
        /// or the CA file does not load.
        public static let tls = Kind("TLS")
        /// The deadline passed; the message says during what.
        public static let timedOut = Kind("timed out")
        /// The request cannot be sent as built: a URL libcurl refuses, a line break in a header.
        public static let invalidRequest = Kind("invalid request")
        /// The response is larger than the session's limit.
        public static let responseTooLarge = Kind("response too large")
        /// Anything else: a connection reset or closed early, a malformed response, no memory.
        public static let other = Kind("other")
    }

    public var kind: Kind
    /// What happened, in one line.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// "2s", "1.5s": how timeouts are written in messages.
    public static func seconds(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return "\(Int(value))s" }
        return "\((value * 1000).rounded() / 1000)s"
    }
}
