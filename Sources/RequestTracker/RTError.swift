import Curl

/// Why a call to RT failed, as one line an operator can act on, naming RT_URL:
/// "RT at https://tickets.example.org: timed out after 10s while waiting for the response".
public struct RTError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; new kinds may be added.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// RT could not be reached: DNS, refused connection, TLS, a connection cut short.
        public static let unreachable = Kind("unreachable")
        /// RT did not answer before the deadline (RT_TIMEOUT, or the request's).
        public static let timeout = Kind("timeout")
        /// RT refused the credentials (401) or the user lacks a right (403).
        public static let unauthorized = Kind("unauthorized")
        /// No such asset or ticket.
        public static let notFound = Kind("not found")
        /// RT refused the change and said why (unknown owner, invalid status, unknown queue).
        public static let rejected = Kind("rejected")
        /// More than one asset matches what should be unique (an asset tag, a serial number).
        public static let ambiguous = Kind("ambiguous")
        /// RT answered something this client does not understand (not JSON, a 5xx).
        public static let badResponse = Kind("bad response")
        /// The settings cannot make a client (no credentials, an invalid URL, a CA file that does not load).
        public static let configuration = Kind("configuration")
    }

    public var kind: Kind
    /// RT_URL, as configured.
    public var url: String
    /// What happened, without the URL.
    public var message: String
    /// The HTTP status, when RT answered.
    public var status: Int?

    public init(_ kind: Kind, url: String, _ message: String, status: Int? = nil) {
        self.kind = kind
        self.url = url
        self.message = message
        self.status = status
    }

    public var description: String { "RT at \(url): \(message)" }

    /// Maps a transport failure. RT_URL already names the host, so libcurl's message goes as
    /// it is: "RT at https://rt.example: timed out after 10s while connecting".
    init(_ error: CurlError, url: String) {
        self.init(Self.kind(of: error), url: url, error.message)
    }

    static func kind(of error: CurlError) -> Kind {
        switch error.kind {
        case .timedOut: return .timeout
        case .invalidRequest: return .configuration
        case .responseTooLarge: return .badResponse
        default: return .unreachable
        }
    }
}
