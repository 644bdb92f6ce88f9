/// A request the server refuses. `status` is the response to send before closing the
/// connection (400, 413, 414, 431, 501 or 505); `reason` is a short phrase for the error log.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var reason: String

    public init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status) \(reason)" }
}

extension HTTPParseError {
    @usableFromInline static let bareCR = HTTPParseError(400, "bare CR")
    @usableFromInline static let bareLF = HTTPParseError(400, "bare LF")
}
